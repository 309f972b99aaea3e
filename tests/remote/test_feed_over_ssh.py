"""The remotes' status feeds over real ssh: watch-remotes keeps one per configured remote.

Found merging the feed (watch) with the ssh side: the feed ran ``tclaude tclaude
watch`` and wrote its cache over the one ``list`` keeps for the same remote.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.cli_runner import Tclaude
from tests.support.remotes import Machine, Remotes


def _feed_cache(env: dict[str, str], remote: str) -> dict[str, Any] | None:
    path = Path(env["TCLAUDE_STATE_DIR"]) / "remotes" / f"{remote}.feed.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def test_watch_remotes_follows_a_remote_over_ssh_beside_list(
    tclaude: Tclaude, remotes: Remotes, beta: Machine, isolated_env: dict[str, str]
) -> None:
    feeds = subprocess.Popen(
        [sys.executable, "-m", "tmuxclaude", "watch-remotes"],
        env=isolated_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        tclaude.run("new", "--on", "beta", "--name", "w1", "--detached")
        deadline = time.monotonic() + 60
        while True:
            cache = _feed_cache(isolated_env, "beta")
            names = [i["name"] for i in cache["instances"]] if cache else []
            if cache and cache.get("connected") and names == ["w1"]:
                break
            assert time.monotonic() < deadline, (cache, feeds.poll())
            time.sleep(0.1)
        listed = json.loads(tclaude.run("list", "--json").stdout)
        assert [(r["remote"], r["name"], r["stale"]) for r in listed] == [("beta", "w1", False)]
        # list's own cache (list reads the feed now: --fresh asks), beside the feed's,
        # and neither clobbers the other
        tclaude.run("list", "--fresh")
        assert _feed_cache(isolated_env, "beta") is not None
        own = Path(isolated_env["TCLAUDE_STATE_DIR"]) / "remotes" / "beta.json"
        assert [r["name"] for r in json.loads(own.read_text())["rows"]] == ["w1"]
    finally:
        feeds.send_signal(signal.SIGTERM)
        _, err = feeds.communicate(timeout=30)
    assert feeds.returncode == 0, err
