"""The bench's peer: the order saga's happy path on Temporal, next to the fleet on Dapr.

Same services, same activities (the fleet's own functions, through the orchestrator's
daprd), same events on Kafka; only the workflow engine differs. Not part of the product.
"""
