"""Where a process's resident memory is: /proc/PID/smaps summed by mapping."""

from __future__ import annotations

import os
from collections import defaultdict

KB = 1024


def _label(path: str) -> str:
    if not path:
        return "[anon] (Python heap: arenas, mmap'd objects)"
    if path.startswith("["):
        return path
    base = os.path.basename(path)
    if "lib-dynload" in path or "site-packages" in path:
        return f"ext {base}"
    if base.startswith("python") and "/bin/" in path:
        return f"{base} (interpreter binary)"
    return base


def breakdown(pid: int, top: int = 12) -> list[tuple[str, int, int]]:
    """The largest mappings as (label, rss bytes, private bytes), largest RSS first."""
    rss: dict[str, int] = defaultdict(int)
    private: dict[str, int] = defaultdict(int)
    label = ""
    with open(f"/proc/{pid}/smaps", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            head, _, rest = line.partition(" ")
            if "-" in head and not head.endswith(":"):
                fields = line.split(None, 5)
                label = _label(fields[5].strip() if len(fields) > 5 else "")
            elif head == "Rss:":
                rss[label] += int(rest.split()[0]) * KB
            elif head in ("Private_Clean:", "Private_Dirty:"):
                private[label] += int(rest.split()[0]) * KB
    ranked = sorted(rss, key=lambda k: rss[k], reverse=True)[:top]
    return [(k, rss[k], private[k]) for k in ranked]


def rollup(pid: int) -> dict[str, int]:
    """/proc/PID/smaps_rollup as bytes (Rss, Pss, Private_*, Shared_*, Anonymous …)."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            parts = rest.split()
            if len(parts) == 2 and parts[1] == "kB":
                out[key] = int(parts[0]) * KB
    return out
