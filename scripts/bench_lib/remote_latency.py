"""Run inside the sandbox's environment: remote hook → local feed latency, over real ssh.

``python -m bench_lib.remote_latency REMOTE RUNS -- PUBLISHER...``: PUBLISHER runs
on the remote (``ip netns exec`` with the machine's environment) and, for each
line ``ID NAME STATE`` it reads, records the time and sends the datagram a host
sends on a state change (``watch.publish``), then prints that time. Here a
real ``Feed`` (the one ``watch-remotes`` runs, over the remote's ssh) applies the
event; its ``changed`` callback is when the change is visible locally. Both
ends read the same clock (namespaces share it). Prints one JSON list: seconds.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from tmuxclaude import config as config_module
from tmuxclaude.remote import feed as feeds

PUBLISHER = """
import sys, time
from tmuxclaude import watch
for line in sys.stdin:
    iid, name, state = line.split()
    at = time.time()
    watch.publish({"type": "state", "id": iid, "name": name, "state": state, "unseen": False})
    print(at, flush=True)
"""


async def measure(remote: str, runs: int, publisher: list[str]) -> list[float]:
    config = config_module.load()
    config_module.apply_dirs(config)
    seen: dict[str, tuple[str, float]] = {}

    def changed(feed: feeds.Feed) -> None:
        now = time.time()
        for iid, fields in feed.instances.items():
            if seen.get(iid, ("", 0.0))[0] != fields["state"]:
                seen[iid] = (fields["state"], now)

    feed = feeds.Feed(remote, feeds.configured(config)[remote], changed=changed)
    task = asyncio.get_running_loop().create_task(feed.run())
    proc = await asyncio.create_subprocess_exec(
        *publisher, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    try:
        while not feed.synced:
            await asyncio.sleep(0.01)
        iid, entry = next(iter(feed.instances.items()))
        latencies = []
        for index in range(runs + 1):
            state = "busy" if index % 2 == 0 else "idle"
            proc.stdin.write(f"{iid} {entry['name']} {state}\n".encode())
            await proc.stdin.drain()
            published = float(await proc.stdout.readline())
            deadline = time.monotonic() + 10
            while seen.get(iid, ("", 0.0))[0] != state:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the feed did not see {state}")
                await asyncio.sleep(0.001)
            if index:  # the first one warms the path
                latencies.append(seen[iid][1] - published)
            await asyncio.sleep(0.6)  # past the feed's coalesced cache write (SAVE_EVERY)
        return latencies
    finally:
        proc.stdin.close()
        await proc.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def main() -> None:
    remote, runs, rest = sys.argv[1], int(sys.argv[2]), sys.argv[4:]
    print(json.dumps(asyncio.run(measure(remote, runs, rest))))


if __name__ == "__main__":
    main()
