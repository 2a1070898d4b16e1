#!/bin/bash
# Runs a class of the Kafka jars, as the distribution's script of this name does.
set -euo pipefail
read -r -a heap <<<"${KAFKA_HEAP_OPTS:--Xmx256m}"
read -r -a extra <<<"${KAFKA_OPTS:-}"
level=${KAFKA_TOOLS_LOG4J_LOGLEVEL:-warn}
# Tools start often (health checks): a quick JIT and a small heap.
exec java "${heap[@]}" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
  "-Dorg.slf4j.simpleLogger.defaultLogLevel=${level,,}" "${extra[@]}" \
  -cp '/opt/kafka/libs/*' "$@"
