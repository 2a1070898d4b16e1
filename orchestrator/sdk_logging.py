"""How the Dapr workflow SDK logs: through the root's JSON handler only.

By default the SDK adds a plain-text handler of its own, printing every line twice. The
levels (its per-step INFO lines, ~60 per order, are silenced) are set with the other
libraries' in `observability.logging.configure_logging`.
"""

import logging

from dapr.ext.workflow.logger import LoggerOptions


def sdk_logger_options() -> LoggerOptions:
    return LoggerOptions(log_handler=logging.NullHandler())
