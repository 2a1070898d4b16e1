"""How the Dapr workflow SDK logs: through the root's JSON handler, warnings and up."""

import logging

from dapr.ext.workflow.logger import LoggerOptions


def sdk_logger_options() -> LoggerOptions:
    """By default the SDK adds a plain-text handler of its own, printing every line twice,
    and logs each orchestration step at INFO (~60 lines per order)."""
    return LoggerOptions(log_level="WARNING", log_handler=logging.NullHandler())
