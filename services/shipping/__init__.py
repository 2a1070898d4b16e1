"""The shipping app: a Dapr gRPC app that the orchestrator's activities invoke."""
