"""One suite of deployment tests, run against every way the fleet is deployed.

`FLEET_TARGET` picks the deployment: `local` (the runner, one replica each), `scaled`
(the runner, two replicas on PostgreSQL), `compose` and `k8s`. Each target is brought up
once per session by the same tooling users run, and exposes the fleet at the same
addresses (the API on 127.0.0.1:8000, Kafka on 127.0.0.1:9092, Zipkin on 127.0.0.1:9411);
what differs (how a process is crashed, how a sidecar is reached from beside its app)
lives in the target.
"""
