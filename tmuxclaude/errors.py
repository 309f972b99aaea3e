"""The package's one exception root; the CLI turns these into one line on stderr."""

from __future__ import annotations


class TclaudeError(Exception):
    """A failure the user can act on; ``str(err)`` is the whole message."""

    exit_code = 2


class NotFoundError(TclaudeError):
    """A binary, instance or file the command needs is not there."""


class InstanceNotFoundError(NotFoundError):
    """A target names no known instance; the message lists the known names."""

    def __init__(self, target: str, known: list[str]) -> None:
        names = ", ".join(sorted(known)) if known else "none"
        super().__init__(f"no instance {target!r}; known instances: {names}")


class StateFileError(TclaudeError):
    """The state file cannot be read; it is kept as it is, with a backup."""


class ConfigError(TclaudeError):
    """A configuration value is wrong; the message names the key."""


class TmuxError(TclaudeError):
    """A tmux command failed; the message carries tmux's own words."""


class HostStartError(TclaudeError):
    """An instance host did not become ready."""
