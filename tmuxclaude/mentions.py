"""At-mentions from a file spec: ``PATH[:START[-END]]`` (1-based, inclusive) checked."""

from __future__ import annotations

import os

from .errors import TclaudeError


def parse_file_spec(spec: str) -> dict[str, object]:
    """``path:10-20`` → at_mentioned params with 0-based lines."""
    path, start, end = spec, None, None
    head, sep, tail = spec.rpartition(":")
    if sep and tail and all(part.isdigit() for part in tail.split("-", 1)):
        path = head
        first, _, last = tail.partition("-")
        start, end = int(first), int(last or first)
        if start < 1 or end < start:
            raise TclaudeError(f"bad line range in {spec!r}: lines are 1-based, START <= END")
    full = os.path.realpath(os.path.expanduser(path))
    if not os.path.exists(full):
        raise TclaudeError(f"no such file: {path}")
    params: dict[str, object] = {"filePath": full}
    if end is not None and os.path.isfile(full):
        count = _line_count(full)
        if end > count:
            raise TclaudeError(f"{path} has {count} line(s); lines {start}-{end} go beyond its end")
    if start is not None and end is not None:
        params["lineStart"] = start - 1
        params["lineEnd"] = end - 1
    return params


def _line_count(path: str) -> int:
    """Lines as an editor counts them: a last line without a newline counts too."""
    count, last = 0, b"\n"
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 16):
                count += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError as exc:
        raise TclaudeError(f"cannot read {path}: {exc.strerror}") from None
    return count + (last != b"\n")
