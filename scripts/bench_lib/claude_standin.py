"""The benchmark's claude: it holds the sockets the bench's CLI client opens.

The host serves only connections held by its own process tree (the socket
owner check), so the benchmark, playing the CLI, hands each socket it opens
to this child of the host (SCM_RIGHTS on an abstract unix socket named for
this pid) before the upgrade. Otherwise it only sleeps, as ``sleep`` did.
"""

import os
import socket
import threading
import time


def hold_path(pid: int) -> str:
    return f"\0tclaude-bench-hold-{pid}"


def main() -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(hold_path(os.getpid()))
    server.listen()
    held: list[int] = []

    def serve() -> None:
        while True:
            conn, _ = server.accept()
            with conn:
                _, fds, _, _ = socket.recv_fds(conn, 16, 8)
                held.extend(fds)
                conn.sendall(b"k")

    threading.Thread(target=serve, daemon=True).start()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
