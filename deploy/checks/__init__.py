"""Offline checks of the deploy files; deploy/validate.py runs them all."""
