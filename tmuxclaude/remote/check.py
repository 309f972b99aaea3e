"""``tclaude remote check``: can a remote be reached, how fast, with which versions."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from .. import VERSION
from ..errors import TclaudeError
from ..names import printable
from . import replies
from .ssh import Remote, RemoteError, call

DOCTOR_TIMEOUT = 30.0  # the remote's doctor runs claude --version


@dataclass
class Health:
    remote: str
    state: str  # ok, unreachable, no-tclaude, version-mismatch, error
    message: str
    connect_ms: float | None = None
    latency_ms: float | None = None
    tclaude: str | None = None
    local_tclaude: str = VERSION
    claude: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def check(remote: Remote) -> Health:
    """One remote's health; never raises for what the remote does."""
    health = Health(remote.name, "ok", "")
    try:
        start = time.monotonic()
        reply = call(remote, ["--version"])
        health.connect_ms = round((time.monotonic() - start) * 1000, 1)
        start = time.monotonic()
        call(remote, ["--version"])
        health.latency_ms = round((time.monotonic() - start) * 1000, 1)
        health.tclaude = replies.version(remote.name, reply.stdout)
        health.claude = _claude_version(remote)
    except RemoteError as err:
        health.state, health.message = err.state, str(err)
        return health
    except TclaudeError as err:
        health.state, health.message = "error", str(err)
        return health
    if health.tclaude != VERSION:
        health.state = "version-mismatch"
        health.message = (
            f"remote {remote.name} runs tclaude {health.tclaude}, this one is {VERSION}; "
            f"put this version there with: tclaude remote install {remote.name}"
        )
    else:
        health.message = f"tclaude {health.tclaude}, claude {health.claude or 'unknown'}"
    return health


def _claude_version(remote: Remote) -> str | None:
    """The claude version line of the remote's ``tclaude doctor --json``, if it says one."""
    reply = call(remote, ["doctor", "--json"], timeout=max(remote.timeout, DOCTOR_TIMEOUT))
    try:
        results = replies.parse_json(remote.name, reply.stdout)
    except TclaudeError:
        return None
    if not isinstance(results, list):
        return None
    for item in results:
        if isinstance(item, dict) and item.get("check") == "claude version":
            detail = item.get("detail")
            status = item.get("status")
            if isinstance(detail, str):
                text = printable(detail, 120)
                return text if status == "OK" else f"{text} ({printable(str(status), 8)})"
    return None
