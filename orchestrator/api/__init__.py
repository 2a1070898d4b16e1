"""The public HTTP API and web console on 127.0.0.1:8000."""
