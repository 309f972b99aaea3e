"""Who is on the other end of a loopback TCP connection (Linux ``/proc``).

A token proves that a client could read the lock file; this proves that the
connecting socket is held by the host's own process tree (claude or one of
its descendants), whatever pid the client claims. Runs once per connection:
one read of ``/proc/net/tcp`` and a walk over the fds of the host's
descendants (about a millisecond for a real claude).
"""

from __future__ import annotations

import os
import socket

from ..proctree import descendants


def _proc_addr(ip: str, port: int) -> tuple[str, str]:
    """``(tcp, tcp6)`` spellings of an address as ``/proc/net/tcp*`` shows it."""
    packed = socket.inet_pton(socket.AF_INET6, ip) if ":" in ip else socket.inet_aton(ip)
    if len(packed) == 4:  # an IPv4 peer of a dual-stack socket shows as ::ffff:a.b.c.d
        mapped = b"\0" * 10 + b"\xff\xff" + packed
        v4 = f"{int.from_bytes(packed, 'little'):08X}:{port:04X}"
    else:
        mapped, v4 = packed, ""
    words = (int.from_bytes(mapped[i : i + 4], "little") for i in range(0, 16, 4))
    return v4, "".join(f"{w:08X}" for w in words) + f":{port:04X}"


def socket_inode(client: tuple[str, int], server: tuple[str, int]) -> int | None:
    """The inode of the client's end of ``client``→``server``, if it is the user's own."""
    uid = os.getuid()
    local = _proc_addr(*client)
    remote = _proc_addr(*server)
    for index, table in enumerate(("/proc/net/tcp", "/proc/net/tcp6")):
        want = (local[index], remote[index])
        if not want[0]:
            continue
        try:
            with open(table, encoding="ascii") as handle:
                next(handle, None)  # the header
                for line in handle:
                    fields = line.split()
                    if len(fields) > 9 and (fields[1], fields[2]) == want:
                        return int(fields[9]) if int(fields[7]) == uid else None
        except OSError:
            continue
    return None


def holds_socket(pid: int, inode: int) -> bool:
    """Whether process ``pid`` has ``socket:[inode]`` among its open fds."""
    target = f"socket:[{inode}]"
    fd_dir = f"/proc/{pid}/fd"
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"{fd_dir}/{fd}") == target:
                return True
        except OSError:
            continue
    return False


def owned_by_tree(client: tuple[str, int], server: tuple[str, int], root: int) -> bool:
    """Whether the client's end of this loopback connection is held by ``root``'s descendants.

    False when it cannot be told (no ``/proc``, another user's socket, the
    client already gone): the caller refuses then.
    """
    inode = socket_inode(client, server)
    if inode is None:
        return False
    return any(holds_socket(pid, inode) for pid in descendants(root))
