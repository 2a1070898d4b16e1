"""Tooling that provisions, starts, inspects and stops the order fleet."""
