"""The orchestrator: runs the order workflows and serves the public API."""
