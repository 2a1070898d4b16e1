#!/bin/bash
# Asks a broker for the API versions it supports (the health check).
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.BrokerApiVersionsCommand "$@"
