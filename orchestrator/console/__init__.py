"""The operator console: plain HTML, CSS and JS modules that read the public JSON API."""

from orchestrator.console.routes import install_console

__all__ = ["install_console"]
