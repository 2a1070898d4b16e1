#!/bin/bash
# The broker on a properties file.
exec "$(dirname "$0")/kafka-run-class.sh" kafka.Kafka "$@"
