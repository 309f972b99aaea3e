"""Settings: ``config.toml``, then ``TCLAUDE_*`` environment, then flags.

``Config`` is a plain dataclass so that commands on the hot path stay fast;
validation is done by a pydantic-settings model derived from it, which is
imported only when the sources changed since the last validated load (the
result is cached in the runtime dir, keyed by the config file's stat and the
``TCLAUDE_*`` environment). A bad value names its key and the reason.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from . import paths

Layout = Literal["tabbed", "split"]
NotifyVia = Literal["message", "bell", "osc777", "notify-send"]
IncludeMode = Literal["copy", "symlink"]


def default_prices() -> dict[str, dict[str, float]]:
    """USD per million tokens by model family (the longest key found in the model name wins)."""
    opus_4 = {"input": 15.0, "output": 75.0, "cache_write": 18.75, "cache_read": 1.5}
    return {
        "opus": {"input": 5.0, "output": 25.0, "cache_write": 6.25, "cache_read": 0.5},
        "claude-opus-4-1": opus_4,
        "claude-opus-4-2": opus_4,
        "sonnet": {"input": 3.0, "output": 15.0, "cache_write": 3.75, "cache_read": 0.3},
        "haiku": {"input": 1.0, "output": 5.0, "cache_write": 1.25, "cache_read": 0.1},
        "claude-3-5-haiku": {"input": 0.8, "output": 4.0, "cache_write": 1.0, "cache_read": 0.08},
    }


@dataclass(frozen=True)
class Config:
    """The effective settings. Field names are the TOML keys; env is ``TCLAUDE_<KEY>``."""

    claude_command: str = "claude"
    claude_args: list[str] = field(default_factory=list)
    session_name: str = "tclaude"
    tmux_socket: str | None = None
    layout: Layout = "tabbed"
    port_range: str = "10000-65535"
    state_dir: str | None = None
    runtime_dir: str | None = None
    beside_width: str = "40%"
    ready_timeout: float = 20.0
    notify: list[NotifyVia] = field(default_factory=lambda: ["message"])
    worktree_dir: str = "{repo}-worktrees/{branch}"
    worktree_include: list[str] = field(default_factory=list)
    worktree_include_mode: IncludeMode = "copy"
    worktree_setup: str | None = None
    prices: dict[str, dict[str, float]] = field(default_factory=default_prices)
    remotes: dict[str, dict[str, str | float]] = field(default_factory=dict)
    remote_timeout: float = 3.0


DESCRIPTIONS = {
    "claude_command": "the claude command, split like a shell would",
    "claude_args": "arguments added to every claude launch",
    "session_name": "tmux session for instances when tclaude runs outside tmux",
    "tmux_socket": "tmux -L socket name; overrides the caller's and the default server",
    "layout": "tabbed (a window each) or split (panes of one window)",
    "port_range": "IDE server ports, LOW-HIGH",
    "state_dir": "where the state file lives (default $XDG_STATE_HOME/tclaude)",
    "runtime_dir": "sockets and runtime records (default $XDG_RUNTIME_DIR/tclaude)",
    "beside_width": "size of an instance pane placed beside an editor (tmux -l)",
    "ready_timeout": "seconds tclaude new waits for a host to be ready",
    "notify": "how to tell about an instance that needs you: message, bell, osc777, notify-send",
    "worktree_dir": "where new --worktree puts a worktree: {repo}, {root}, {branch}; "
    "relative to the repository's parent directory",
    "worktree_include": "gitignore patterns of ignored files carried into a new worktree "
    "(with the repository's .worktreeinclude)",
    "worktree_include_mode": "copy or symlink the included files",
    "worktree_setup": "command run with sh -c in a new worktree before its instance starts",
    "prices": "estimated USD per million tokens by model family: [prices.<family>] with "
    "input, output, cache_write, cache_read (the longest family found in the model name wins)",
    "remotes": "SSH machines: [remotes.NAME] with ssh (an alias of your ssh config), "
    "optional ssh_config (a file passed as ssh -F), tclaude (its path on the remote) and "
    "timeout (seconds, instead of remote_timeout)",
    "remote_timeout": "seconds a remote has to answer a quick call (list, status, check)",
}

ENV_PREFIX = "TCLAUDE_"


def _cache_key(config_path: str) -> str:
    """What the validated values depend on: the file's stat and the settings' variables.

    Only ``TCLAUDE_<FIELD>`` variables count: others (``TCLAUDE_INSTANCE`` in
    every claude child) must not make each command miss the cache.
    """
    try:
        st = os.stat(config_path)
        stamp = f"{config_path}:{st.st_mtime_ns}:{st.st_size}"
    except OSError:
        stamp = f"{config_path}:absent"
    names = {ENV_PREFIX + name.upper() for name in _FIELD_NAMES}
    env = sorted((k, v) for k, v in os.environ.items() if k in names)
    return json.dumps([stamp, env])


_FIELD_NAMES = frozenset(f.name for f in fields(Config))


def _cache_path() -> str:
    return os.path.join(paths.runtime_dir(), "config-cache.json")


def load(overrides: dict[str, Any] | None = None) -> Config:
    """The effective config; ``overrides`` are command-line flags (None = not given)."""
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    config_path = paths.config_file()
    key = _cache_key(config_path)
    values: dict[str, Any] | None = None
    try:
        with open(_cache_path(), encoding="utf-8") as handle:
            cached = json.load(handle)
        if cached.get("key") == key and set(cached["values"]) <= _FIELD_NAMES:
            values = cached["values"]  # else another tclaude version wrote it: redo
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        values = None
    if values is None:
        values = validated_values(config_path)
        try:
            paths.ensure_private_dir(paths.runtime_dir())
            paths.write_atomic(_cache_path(), json.dumps({"key": key, "values": values}))
        except OSError:
            pass
    # flags arrive typed and checked by argparse: they are merged, not re-validated
    return Config(**{**values, **overrides})


def load_cached() -> Config | None:
    """The values the last validated load cached for the current config file, or None.

    Never validates (no pydantic) and never writes the cache: for the host,
    whose ``TCLAUDE_*`` environment differs from the CLI's (so its own key
    would miss, and writing would evict the CLI's entry). The environment of
    the load that wrote the cache may differ from the caller's.
    """
    try:
        with open(_cache_path(), encoding="utf-8") as handle:
            cached = json.load(handle)
        stamp = json.loads(_cache_key(paths.config_file()))[0]
        if json.loads(cached["key"])[0] == stamp:
            return Config(**cached["values"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        pass
    return None


def validated_values(config_path: str) -> dict[str, Any]:
    """Validate the file and environment with pydantic-settings; ConfigError names the key."""
    from .config_model import build

    return build(config_path)


def sources(config_path: str | None = None) -> dict[str, tuple[Any, str]]:
    """Each key's effective value and where it came from: flag, env, file or default."""
    from .config_model import explain

    return explain(config_path or paths.config_file())


def apply_dirs(config: Config) -> None:
    """Make configured state/runtime dirs visible to everything through the environment."""
    if config.state_dir and not os.environ.get("TCLAUDE_STATE_DIR"):
        os.environ["TCLAUDE_STATE_DIR"] = os.path.expanduser(config.state_dir)
    if config.runtime_dir and not os.environ.get("TCLAUDE_RUNTIME_DIR"):
        os.environ["TCLAUDE_RUNTIME_DIR"] = os.path.expanduser(config.runtime_dir)
