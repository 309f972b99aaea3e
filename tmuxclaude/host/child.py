"""The claude child: its command line and the environment that pins it to our server."""

from __future__ import annotations

import shlex

from .. import paths
from ..errors import ConfigError, NotFoundError

DEFAULT_COMMAND = "claude"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def resolve_command(command: str, extra_args: list[str]) -> list[str]:
    """Split ``command`` as a shell would and find its program on PATH.

    Raises NotFoundError with an install hint when it is not there.
    """
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(f"cannot parse claude command {command!r}: {exc}") from None
    if not argv:
        raise ConfigError("the claude command is empty (TCLAUDE_CLAUDE_COMMAND)")
    found = paths.which(argv[0])
    if found is None:
        raise NotFoundError(
            f"claude command not found: {argv[0]!r}; install Claude Code "
            "(npm install -g @anthropic-ai/claude-code) or set TCLAUDE_CLAUDE_COMMAND"
        )
    return [found, *argv[1:], *extra_args]


def _with_loopback(value: str | None) -> str:
    items = [item.strip() for item in (value or "").split(",") if item.strip()]
    items += [host for host in LOOPBACK if host not in items]
    return ",".join(items)


def environment(base: dict[str, str], *, port: int, instance_id: str) -> dict[str, str]:
    """The child's environment: ``base`` plus what pins the CLI to this host."""
    env = dict(base)
    for key in ("CLAUDE_CODE_SSE_PORT", "CLAUDECODE"):
        env.pop(key, None)
    auto = env.get("CLAUDE_CODE_AUTO_CONNECT_IDE", "").strip().lower()
    if auto in ("0", "false", "no", "off", ""):
        env.pop("CLAUDE_CODE_AUTO_CONNECT_IDE", None)
    env["CLAUDE_CODE_SSE_PORT"] = str(port)
    env["ENABLE_IDE_INTEGRATION"] = "true"
    env["FORCE_CODE_TERMINAL"] = "true"
    env["TCLAUDE_INSTANCE"] = instance_id
    env["no_proxy"] = _with_loopback(env.get("no_proxy"))
    env["NO_PROXY"] = _with_loopback(env.get("NO_PROXY"))
    return env
