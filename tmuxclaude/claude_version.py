"""Which Claude Code CLI version tclaude launches, and whether it is supported.

``claude --version`` costs a process start (tens to hundreds of ms), so its
answer is cached per binary (real path, mtime, size) in a 0600 file,
``$XDG_CACHE_HOME/tclaude/claude-version.json``: a cached look-up is one
stat and one small read. Cheap to
import: the host's and ``new``'s start paths use it.
"""

from __future__ import annotations

import json
import os
import re

from . import paths

Version = tuple[int, int, int]

#: The oldest and the newest CLI the real-CLI tests run against (tests/realcli).
OLDEST_VERSION: Version = (2, 1, 197)
NEWEST_VERSION: Version = (2, 1, 332)
OLDEST = "2.1.197"
NEWEST = "2.1.332"
VERSION_TIMEOUT = 10.0  # seconds for ``claude --version``; a hung wrapper is not waited on

_VERSION_RE = re.compile(r"^\s*v?(\d+)\.(\d+)\.(\d+)\b")
_CACHE_NAME = "claude-version.json"
_CACHE_ENTRIES = 16  # binaries remembered; the oldest are dropped beyond this


def parse(text: str) -> Version | None:
    """``(2, 1, 197)`` from ``"2.1.197 (Claude Code)"``; None for anything else."""
    match = _VERSION_RE.match(text)
    if match is None:
        return None
    major, minor, patch = (int(group) for group in match.groups())
    return major, minor, patch


def show(version: Version) -> str:
    return ".".join(str(part) for part in version)


def supported(version: Version) -> bool:
    """Whether ``version`` lies inside the tested range, ends included."""
    return OLDEST_VERSION <= version <= NEWEST_VERSION


def support_problem(version: Version) -> str | None:
    """One line saying why ``version`` is not supported, or None when it is."""
    if supported(version):
        return None
    side = "older than the oldest" if version < OLDEST_VERSION else "newer than the newest"
    return (
        f"Claude Code {show(version)} is {side} version tclaude supports "
        f"({OLDEST} to {NEWEST}); it may misbehave: see docs/compatibility.md"
    )


def resolve(program: str) -> str | None:
    """The absolute path of ``program`` (as ``claude_command``'s first word), or None."""
    found = paths.which(os.path.expanduser(program))
    return os.path.abspath(found) if found else None


def _cache_key(binary: str) -> str | None:
    try:
        real = os.path.realpath(binary)
        st = os.stat(real)
    except OSError:
        return None
    return f"{real}:{st.st_mtime_ns}:{st.st_size}"


def _cache_dir() -> str:
    """``$XDG_CACHE_HOME/tclaude`` (``~/.cache/tclaude`` when unset or relative)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tclaude")


def _cache_path() -> str:
    return os.path.join(_cache_dir(), _CACHE_NAME)


def _read_cache() -> dict[str, str]:
    try:
        with open(_cache_path(), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def _ask(binary: str) -> str | None:
    """What ``binary --version`` printed when it ran to the end ("" for a failure), or None."""
    import subprocess  # only on a cache miss

    try:
        out = subprocess.run(
            [binary, "--version"],
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None  # not run, or hung: ask again next time
    version = parse(out.stdout) if out.returncode == 0 else None
    return show(version) if version else ""


def version_of(binary: str) -> Version | None:
    """The version ``binary`` reports, from the cache when the binary is unchanged.

    None when it cannot be run or prints no version (a wrapper script, a
    crash); a program that ran and printed no version is cached as such.
    Never raises.
    """
    key = _cache_key(binary)
    if key is None:
        return None
    cache = _read_cache()
    if key in cache:
        return parse(cache[key])
    answer = _ask(binary)
    if answer is None:
        return None
    cache[key] = answer
    kept = dict(list(cache.items())[-_CACHE_ENTRIES:])
    try:
        paths.ensure_private_dir(_cache_dir())
        paths.write_atomic(_cache_path(), json.dumps(kept), mode=0o600)
    except OSError:
        pass  # a cache is a cache
    return parse(answer)


def of_command(claude_command: str) -> tuple[str | None, Version | None]:
    """The binary ``claude_command`` runs (None when not found) and its version."""
    import shlex

    try:
        words = shlex.split(claude_command)
    except ValueError:
        return None, None
    binary = resolve(words[0]) if words else None
    return binary, (version_of(binary) if binary else None)
