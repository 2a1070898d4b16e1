"""Workflow generators. Deterministic only: no I/O, clocks, randomness or env reads."""
