"""Open-loop benchmark of the order saga on the local fleet, against the runtime's own floor.

`python -m bench run` (or `make bench`) drives orders through the Kafka intake at fixed
rates, measures completions from `order-events`, samples every fleet process, then runs
a no-op workflow with the same number of activities on its own sidecar (the floor).
"""
