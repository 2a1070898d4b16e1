"""Errors raised while provisioning, each with a message a user can act on."""

from pathlib import Path


class ProvisionError(RuntimeError):
    """A build or download failed; the message says what and where its log is."""


def tail(path: Path, lines: int = 30) -> str:
    try:
        content = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join(content[-lines:])


def failure(what: str, log: Path) -> ProvisionError:
    return ProvisionError(f"{what} failed. Last lines of {log}:\n{tail(log)}\n\nFull log: {log}")
