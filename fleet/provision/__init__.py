"""Builds and downloads the runtime pieces the fleet needs, into a version-keyed cache."""
