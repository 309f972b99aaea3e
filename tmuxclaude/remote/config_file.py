"""Add and remove a ``[remotes.NAME]`` table in config.toml, keeping everything else.

The edit is textual, so comments and layout stay: a table is appended at the
end, or its lines (from its header to the next header) are taken out. The
result is parsed before it is written (atomically, with the file's mode); an
edit that would not give exactly the intended config is refused, and the
user edits the file by hand.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from typing import Any

from .. import paths
from ..errors import ConfigError
from .names import check_remote

_HEADER = re.compile(r"\s*\[")


def _read(path: str) -> tuple[str, dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return "", {}
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}; fix it first") from None


def _write(path: str, text: str, expected: dict[str, Any]) -> None:
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        parsed = None
    if parsed != expected:
        raise ConfigError(
            f"config file {path}: its remotes are written in a way tclaude does not edit; "
            "edit [remotes.NAME] there by hand"
        )
    paths.ensure_private_dir(os.path.dirname(path))
    try:
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    paths.write_atomic(path, text, mode)


def add(path: str, name: str, table: Mapping[str, str | float]) -> None:
    """Append ``[remotes.NAME]``; ConfigError if it exists or a value is bad."""
    try:
        check_remote(name, table)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    text, current = _read(path)
    if name in current.get("remotes", {}):
        raise ConfigError(f"remote {name!r} is configured already; remove it first")
    lines = [f"[remotes.{name}]"] + [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    prefix = text if not text or text.endswith("\n") else text + "\n"
    new_text = prefix + ("\n" if prefix.strip() else "") + "\n".join(lines) + "\n"
    expected = {**current, "remotes": {**current.get("remotes", {}), name: dict(table)}}
    _write(path, new_text, expected)


def remove(path: str, name: str) -> bool:
    """Take ``[remotes.NAME]`` out; False if no such remote was configured."""
    text, current = _read(path)
    if name not in current.get("remotes", {}):
        return False
    headers = {f"[remotes.{name}]", f'[remotes."{name}"]', f"[remotes.'{name}']"}
    kept: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        if _HEADER.match(line):
            skipping = line.split("#", 1)[0].strip().replace(" ", "") in headers
        if not skipping:
            kept.append(line)
    remotes = {k: v for k, v in current["remotes"].items() if k != name}
    expected = {k: v for k, v in current.items() if k != "remotes"}
    if remotes:
        expected["remotes"] = remotes
    new_text = "".join(kept)
    # the blank line that add put before the table goes with it
    new_text = new_text.rstrip("\n") + "\n" if new_text.strip() else ""
    try:  # an emptied [remotes] super-table parses as {} : drop it from the comparison
        if tomllib.loads(new_text).get("remotes") == {} and not remotes:
            expected["remotes"] = {}
    except tomllib.TOMLDecodeError:
        pass
    _write(path, new_text, expected)
    return True
