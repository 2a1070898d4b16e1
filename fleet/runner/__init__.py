"""Starts, watches and stops the fleet's processes (used by `make`, `fleet` and the tests)."""
