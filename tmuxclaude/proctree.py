"""Process trees from Linux ``/proc``: parents, children, descendants.

Cheap to import (``os`` only): the host checks its connecting peers with it,
``doctor`` walks instances' trees for secrets in their command lines.
"""

from __future__ import annotations

import os


def parent(pid: int) -> int | None:
    """``pid``'s parent pid, or None when it is gone (or there is no ``/proc``)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    # the command name may hold spaces and parentheses: split after the last ')'
    return int(stat[stat.rindex(b")") + 2 :].split()[1])


def is_descendant(pid: int, ancestor: int) -> bool:
    """Whether ``pid`` is ``ancestor``'s child or a deeper descendant."""
    for _ in range(64):
        if pid <= 1:
            return False
        ppid = parent(pid)
        if ppid is None:
            return False
        if ppid == ancestor:
            return True
        pid = ppid
    return False


def _children(pid: int) -> list[int]:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as handle:
                found.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return found


def _children_by_stat() -> dict[int, list[int]]:
    """Every process's children, from each ``stat`` (kernels without ``children``)."""
    table: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        ppid = parent(int(name))
        if ppid is not None:
            table.setdefault(ppid, []).append(int(name))
    return table


def descendants(root: int) -> list[int]:
    """``root``'s descendants, children first (not ``root`` itself)."""
    children = _children
    if not os.path.exists(f"/proc/{root}/task/{root}/children"):
        table = _children_by_stat()
        children = lambda pid: table.get(pid, [])  # noqa: E731
    found: list[int] = []
    queue = children(root)
    while queue and len(found) < 4096:
        pid = queue.pop(0)
        found.append(pid)
        queue.extend(children(pid))
    return found
