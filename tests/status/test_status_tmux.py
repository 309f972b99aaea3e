"""Hooks from a (fake) claude become pane options, state file entries and notifications."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Tclaude
from tests.support.hosts import ControlServer, FakeCli
from tests.support.terminal import Terminal


def _option(tclaude: Tclaude, pane: str, name: str) -> str:
    return tclaude.tmux("display-message", "-p", "-t", pane, "#{" + name + "}").strip()


async def _until(tclaude: Tclaude, pane: str, name: str, value: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while _option(tclaude, pane, name) != value:
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} is {_option(tclaude, pane, name)!r}, not {value!r}")
        await asyncio.sleep(0.02)


async def _new(
    tclaude: Tclaude, control: ControlServer, name: str, cwd: Path
) -> tuple[str, FakeCli]:
    data = await asyncio.to_thread(
        tclaude.json, "new", "--name", name, "--cwd", str(cwd), "--detached"
    )
    cli = await control.accept()
    return str(data["pane"]), cli


async def test_hook_events_drive_the_pane_state(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer, isolated_env: dict[str, str]
) -> None:
    pane, cli = await _new(tclaude, control, "api", tmp_path)
    await _until(tclaude, pane, "@tclaude-state", "idle")  # SessionStart
    steps = [
        ("UserPromptSubmit", {}, "busy"),
        ("PreToolUse", {"tool_name": "Write"}, "busy"),
        ("PermissionRequest", {"tool_name": "Write"}, "waiting"),
        ("PostToolUse", {"tool_name": "Write"}, "busy"),
        ("Stop", {}, "idle"),
    ]
    for event, payload, state in steps:
        await cli.hook(event, payload)
        await _until(tclaude, pane, "@tclaude-state", state)
    assert _option(tclaude, pane, "@tclaude-unseen") == "1"
    assert int(_option(tclaude, pane, "@tclaude-state-since")) >= int(time.time()) - 5
    listed = await asyncio.to_thread(tclaude.json, "list")
    assert listed[0]["state"] == "idle"
    # the SessionStart session id is in the state file, for restore
    state_file = Path(isolated_env["TCLAUDE_STATE_DIR"]) / "instances.json"
    entry = json.loads(state_file.read_text())["instances"][listed[0]["id"]]
    assert entry["session_source"] == "startup"
    assert entry["session_id"] == listed[0]["session_id"] and len(entry["session_id"]) == 36
    # focusing the instance marks the finished turn as seen
    await asyncio.to_thread(tclaude.run, "switch", "api")
    assert _option(tclaude, pane, "@tclaude-unseen") == ""
    await cli.hook("StopFailure")
    await _until(tclaude, pane, "@tclaude-state", "error")
    # /clear: a new session id replaces the old one
    await cli.hook("SessionEnd", {"reason": "clear"})
    cleared = "5d0c2a4e-1b3f-4c6d-8e9f-0a1b2c3d4e5f"
    await cli.hook("SessionStart", {"source": "clear", "session_id": cleared})
    await _until(tclaude, pane, "@tclaude-state", "idle")
    entry = json.loads(state_file.read_text())["instances"][listed[0]["id"]]
    assert (entry["session_id"], entry["session_source"]) == (cleared, "clear")


async def test_editors_are_told_of_state_changes(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer
) -> None:
    from tests.support.hosts import EditorClient

    _pane, cli = await _new(tclaude, control, "api", tmp_path)
    data = (await asyncio.to_thread(tclaude.json, "list"))[0]
    editor = await EditorClient.connect(data["socket"])
    await editor.call("attach", {"name": "test"})
    await cli.hook("UserPromptSubmit")
    note = await editor.next_request("state_changed")
    assert note["params"]["state"] == "busy" and isinstance(note["params"]["since"], int)
    await editor.close()


async def test_wait_returns_when_the_state_comes(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer
) -> None:
    pane, cli = await _new(tclaude, control, "api", tmp_path)
    await _until(tclaude, pane, "@tclaude-state", "idle")
    await cli.hook("UserPromptSubmit")
    await _until(tclaude, pane, "@tclaude-state", "busy")
    waiter = asyncio.create_task(
        asyncio.to_thread(
            tclaude.run, "wait", "api", "--state", "waiting,idle", "--timeout", "20", check=False
        )
    )
    await asyncio.sleep(0.5)
    assert not waiter.done()
    await cli.hook("Stop")
    done = await waiter
    assert done.returncode == 0 and done.stdout.strip() == "idle"
    timeout = await asyncio.to_thread(
        tclaude.run, "wait", "api", "--state", "busy", "--timeout", "0.3", check=False
    )
    assert timeout.returncode == 1 and "still idle" in timeout.stderr
    bad = await asyncio.to_thread(tclaude.run, "wait", "api", "--state", "sleepy", check=False)
    assert bad.returncode == 2 and "unknown state" in bad.stderr


class Client:
    """A real tmux client on a pty: what tclaude writes to its terminal lands in ``output``."""

    def __init__(self, socket: str) -> None:
        master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            ["tmux", "-L", socket, "attach", "-t", "tclaude"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**os.environ, "TERM": "xterm-256color"},
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self.output = b""
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.output += chunk

    def take(self) -> bytes:
        with self._lock:
            out, self.output = self.output, b""
        return out

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)
        os.close(self.master)


@pytest.fixture
def notify_osc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TCLAUDE_NOTIFY", '["osc777", "message"]')


@pytest.fixture
def attached(tclaude: Tclaude) -> Iterator[list[Client]]:
    clients: list[Client] = []
    yield clients
    for client in clients:
        client.close()


async def _osc(client: Client, wait: float = 1.5) -> list[str]:
    await asyncio.sleep(wait)
    out = client.take().decode(errors="replace")
    return [part.split("\x07")[0] for part in out.split("\x1b]777;notify;tclaude;")[1:]]


async def test_notifications_once_per_transition_and_not_for_the_focused_one(
    tclaude: Tclaude,
    tmp_path: Path,
    control: ControlServer,
    notify_osc: None,
    attached: list[Client],
) -> None:
    _pane_a, cli_a = await _new(tclaude, control, "a", tmp_path)
    pane_b, cli_b = await _new(tclaude, control, "b", tmp_path)
    await _until(tclaude, pane_b, "@tclaude-state", "idle")
    await asyncio.to_thread(tclaude.run, "switch", "a")
    client = Client(tclaude.socket)
    attached.append(client)
    await _osc(client, 1.0)  # the first paint
    await cli_b.hook("UserPromptSubmit")
    await cli_b.hook("PermissionRequest", {"tool_name": "Write"})
    await cli_b.hook("Notification", {"notification_type": "permission_prompt"})
    assert await _osc(client) == ["tclaude: b needs you"]  # once, though told twice
    await cli_b.hook("PostToolUse")
    await cli_b.hook("Stop")
    assert await _osc(client) == ["tclaude: b is done"]
    await cli_a.hook("UserPromptSubmit")
    await cli_a.hook("Stop")  # a is in front: no notification
    assert await _osc(client) == []
    await cli_a.hook("StopFailure")  # errors always
    assert await _osc(client) == ["tclaude: a failed"]


async def test_a_deleted_directory_makes_the_instance_stale_and_says_so(
    tclaude: Tclaude,
    tmp_path: Path,
    control: ControlServer,
    notify_osc: None,
    attached: list[Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TCLAUDE_CWD_CHECK", "0.1")
    worktree = tmp_path / "wt"
    worktree.mkdir()
    await _new(tclaude, control, "front", tmp_path)
    pane, _cli = await _new(tclaude, control, "wt", worktree)
    await asyncio.to_thread(tclaude.run, "switch", "front")
    client = Client(tclaude.socket)
    attached.append(client)
    await _osc(client, 1.0)
    worktree.rmdir()
    await _until(tclaude, pane, "@tclaude-state", "stale")
    assert await _osc(client) == ["tclaude: wt lost its directory"]
    listed = {i["name"]: i["state"] for i in await asyncio.to_thread(tclaude.json, "list")}
    assert listed == {"front": "idle", "wt": "stale"}


async def test_a_directory_back_brings_back_the_state_its_turns_gave(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the new-user trial (session 5): a directory moved away and back (a remount,
    a worktree re-created) left the instance stale for good."""
    monkeypatch.setenv("TCLAUDE_CWD_CHECK", "0.1")
    worktree = tmp_path / "wt"
    worktree.mkdir()
    pane, cli = await _new(tclaude, control, "wt", worktree)
    worktree.rename(tmp_path / "away")
    await _until(tclaude, pane, "@tclaude-state", "stale")
    await cli.hook("UserPromptSubmit")  # a turn starts meanwhile: still stale
    await asyncio.sleep(0.3)
    assert _option(tclaude, pane, "@tclaude-state") == "stale"
    (tmp_path / "away").rename(worktree)
    await _until(tclaude, pane, "@tclaude-state", "busy")
    listed = {i["name"]: i["state"] for i in await asyncio.to_thread(tclaude.json, "list")}
    assert listed == {"wt": "busy"}
    worktree.rmdir()  # and gone again: stale again
    await _until(tclaude, pane, "@tclaude-state", "stale")


async def test_a_rapid_burst_of_hooks_ends_in_the_last_state(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer, isolated_env: dict[str, str]
) -> None:
    import urllib.request

    data = await asyncio.to_thread(
        tclaude.json, "new", "--name", "api", "--cwd", str(tmp_path), "--detached"
    )
    await control.accept()
    pane = str(data["pane"])
    await _until(tclaude, pane, "@tclaude-state", "idle")
    settings = json.loads(
        (Path(isolated_env["TCLAUDE_RUNTIME_DIR"]) / f"{data['id']}.settings.json").read_text()
    )
    url = settings["hooks"]["Stop"][0]["hooks"][0]["url"]

    def post(event: str) -> None:
        body = json.dumps({"hook_event_name": event, "session_id": "s"}).encode()
        request = urllib.request.Request(url, data=body, method="POST")
        with urllib.request.urlopen(request, timeout=5) as reply:
            assert reply.read() == b"{}"

    events = ["UserPromptSubmit", "PreToolUse", "PermissionRequest", "PostToolUse", "Stop"] * 12

    def burst() -> None:
        for event in events:
            post(event)

    await asyncio.to_thread(burst)
    # the pane follows the host a few ms behind: wait for the last event's values
    await _until(tclaude, pane, "@tclaude-unseen", "1")
    await _until(tclaude, pane, "@tclaude-state", "idle")
    await asyncio.to_thread(post, "PermissionRequest")  # and a change after the burst still shows
    await _until(tclaude, pane, "@tclaude-state", "waiting")


async def test_a_turn_finishing_in_the_pane_in_view_is_not_unseen(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer, attached: list[Client]
) -> None:
    pane_a, cli_a = await _new(tclaude, control, "a", tmp_path)
    pane_b, cli_b = await _new(tclaude, control, "b", tmp_path)
    await _until(tclaude, pane_b, "@tclaude-state", "idle")
    await asyncio.to_thread(tclaude.run, "switch", "a")
    attached.append(Client(tclaude.socket))
    await _until(tclaude, pane_a, "#{session_attached}", "1")
    for cli, pane in ((cli_a, pane_a), (cli_b, pane_b)):
        await cli.hook("UserPromptSubmit")
        await _until(tclaude, pane, "@tclaude-state", "busy")
        await cli.hook("Stop")
        await _until(tclaude, pane, "@tclaude-state", "idle")
    assert _option(tclaude, pane_a, "@tclaude-unseen") == ""  # finished in front of the user
    assert _option(tclaude, pane_b, "@tclaude-unseen") == "1"


async def test_a_turn_finishing_in_a_view_of_the_pane_is_not_unseen(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer
) -> None:
    """Shown in a terminal's own view (tclaude attach) while another terminal's view,
    attached later, shows another instance: tmux picked that view for the pane."""
    made = [await _new(tclaude, control, name, tmp_path) for name in ("a", "b", "c")]
    for pane, _ in made:
        await _until(tclaude, pane, "@tclaude-state", "idle")
    terminals = []
    try:
        for name, (pane, _) in zip(("a", "b"), made, strict=False):
            terminals.append(Terminal([sys.executable, "-m", "tmuxclaude", "attach", name]))
            await _until(tclaude, pane, "#{window_active_clients}", "1")
        for pane, cli in made:
            await cli.hook("UserPromptSubmit")
            await _until(tclaude, pane, "@tclaude-state", "busy")
            await cli.hook("Stop")
            await _until(tclaude, pane, "@tclaude-state", "idle")
        unseen = [_option(tclaude, pane, "@tclaude-unseen") for pane, _ in made]
        assert unseen == ["", "", "1"]  # a and b finished in front of the user, c not
    finally:
        for terminal in terminals:
            terminal.close()


async def test_notices_close_together_make_one_message_naming_all(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer, attached: list[Client]
) -> None:
    await _new(tclaude, control, "front", tmp_path)
    busy = [await _new(tclaude, control, name, tmp_path) for name in ("a", "b", "c")]
    await asyncio.to_thread(tclaude.run, "switch", "front")
    attached.append(Client(tclaude.socket))
    for pane, cli in busy:
        await cli.hook("UserPromptSubmit")
        await _until(tclaude, pane, "@tclaude-state", "busy")
    await asyncio.gather(*(cli.hook("Stop") for _, cli in busy))
    for pane, _ in busy:
        await _until(tclaude, pane, "@tclaude-unseen", "1")

    def last_message() -> str:
        # newest first
        lines = [ln for ln in tclaude.tmux("show-messages").splitlines() if "tclaude:" in ln]
        return lines[0].split("tclaude:", 1)[1] if lines else ""

    deadline = time.monotonic() + 10
    while sorted(last_message().split()[:3]) != ["a", "b", "c"]:
        assert time.monotonic() < deadline, tclaude.tmux("show-messages")
        await asyncio.sleep(0.05)
    assert last_message().strip().endswith("are done")


async def test_a_renamed_instance_is_notified_under_its_new_name(
    tclaude: Tclaude,
    tmp_path: Path,
    control: ControlServer,
    notify_osc: None,
    attached: list[Client],
) -> None:
    await _new(tclaude, control, "front", tmp_path)
    pane, cli = await _new(tclaude, control, "old", tmp_path)
    await asyncio.to_thread(tclaude.run, "rename", "old", "new")
    await asyncio.to_thread(tclaude.run, "switch", "front")
    client = Client(tclaude.socket)
    attached.append(client)
    await _osc(client, 1.0)
    await cli.hook("UserPromptSubmit")
    await _until(tclaude, pane, "@tclaude-state", "busy")
    await cli.hook("Stop")
    assert await _osc(client) == ["tclaude: new is done"]


async def test_a_turn_end_publishes_usage_and_a_rate_limit_is_limited(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer
) -> None:
    from tests.support import transcripts as tr
    from tmuxclaude.transcript import project_dir

    pane, cli = await _new(tclaude, control, "api", tmp_path)
    await _until(tclaude, pane, "@tclaude-state", "idle")
    session_id = "5d0c2a4e-1b3f-4c6d-8e9f-0a1b2c3d4e5f"
    path = Path(project_dir(str(tmp_path))) / f"{session_id}.jsonl"
    big = {"input_tokens": 20_000, "output_tokens": 1000, "cache_read_input_tokens": 79_000}
    tr.write(path, [tr.assistant([tr.text("hi")], session_id, str(tmp_path), usage=big)])
    ends = {"session_id": session_id, "transcript_path": str(path)}
    await cli.hook("Stop", ends)
    # 100,000 of 200,000 tokens; sonnet: 20k*3 + 1k*15 + 79k*0.3 per million = $0.10
    await _until(tclaude, pane, "@tclaude-usage", "50% $0.10")
    # a transcript path outside the projects dir is not read
    await cli.hook("Stop", {**ends, "transcript_path": str(tmp_path / "elsewhere.jsonl")})
    await cli.hook("StopFailure", {**ends, "error": "rate_limit"})
    await _until(tclaude, pane, "@tclaude-state", "limited")
    assert _option(tclaude, pane, "@tclaude-usage") == "50% $0.10"


async def test_usage_uses_the_configured_prices_without_pydantic_in_the_host(
    tclaude: Tclaude,
    tmp_path: Path,
    control: ControlServer,
    isolated_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.support import transcripts as tr
    from tmuxclaude.transcript import project_dir

    # as a user runs it: no TCLAUDE_*_DIR in the CLI's environment (the host gets them,
    # so its config cache key differs from the CLI's)
    monkeypatch.setenv("XDG_RUNTIME_DIR", isolated_env["TCLAUDE_RUNTIME_DIR"])
    monkeypatch.delenv("TCLAUDE_RUNTIME_DIR")
    monkeypatch.delenv("TCLAUDE_STATE_DIR")

    config = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[prices.sonnet]\ninput = 1.0\noutput = 0.0\n")
    pane, cli = await _new(tclaude, control, "api", tmp_path)
    await _until(tclaude, pane, "@tclaude-state", "idle")
    session_id = "5d0c2a4e-1b3f-4c6d-8e9f-0a1b2c3d4e5f"
    path = Path(project_dir(str(tmp_path))) / f"{session_id}.jsonl"
    usage = {"input_tokens": 20_000, "output_tokens": 0}
    tr.write(path, [tr.assistant([tr.text("hi")], session_id, str(tmp_path), usage=usage)])
    await cli.hook("Stop", {"session_id": session_id, "transcript_path": str(path)})
    await _until(tclaude, pane, "@tclaude-usage", "10% $0.02")  # 20k tokens at $1/M
    host_pid = int(_option(tclaude, pane, "@tclaude-pid"))
    # validating the config would have loaded pydantic into the host (~10 MB)
    assert "pydantic" not in Path(f"/proc/{host_pid}/maps").read_text()


async def test_usage_written_after_the_stop_hook_is_still_published(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer
) -> None:
    # the CLI may append the turn's last record after its Stop hook ran (seen with
    # 2.1.332 under load): the host reads the transcript again a little later
    from tests.support import transcripts as tr
    from tmuxclaude.transcript import project_dir

    pane, cli = await _new(tclaude, control, "api", tmp_path)
    await _until(tclaude, pane, "@tclaude-state", "idle")
    session_id = "5d0c2a4e-1b3f-4c6d-8e9f-0a1b2c3d4e5f"
    path = Path(project_dir(str(tmp_path))) / f"{session_id}.jsonl"
    await cli.hook("Stop", {"session_id": session_id, "transcript_path": str(path)})
    await asyncio.sleep(0.3)
    big = {"input_tokens": 20_000, "output_tokens": 1000, "cache_read_input_tokens": 79_000}
    tr.write(path, [tr.assistant([tr.text("hi")], session_id, str(tmp_path), usage=big)])
    await _until(tclaude, pane, "@tclaude-usage", "50% $0.10")
