"""Logging and tracing helpers shared by every app of the fleet."""
