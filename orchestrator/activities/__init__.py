"""Workflow activities: every side effect of a workflow happens here, idempotently."""
