"""The seams between the CLI and the domain, in process: no tmux server unless named."""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from tmuxclaude import config as config_module
from tmuxclaude import paths
from tmuxclaude.cli import main
from tmuxclaude.errors import InstanceNotFoundError, TclaudeError
from tmuxclaude.names import slug
from tmuxclaude.registry import Registry
from tmuxclaude.spawn import Spawner, SpawnRequest
from tmuxclaude.state_file import NAME_PATTERN, SavedInstance, StateFile
from tmuxclaude.tmux import Pane, Tmux

PANE = Pane(
    pane_id="%1",
    window_id="@1",
    session="tclaude",
    window_index=1,
    pane_index=0,
    active=True,
    window_active=True,
    session_attached=False,
    zoomed=False,
    dead=False,
    pane_pid=1,
    instance_id="aaaaaa",
    name="api",
    port=None,
    state="idle",
    state_since="",
    clis=1,
    host_pid=None,
    unseen=False,
    cwd="/",
)


class PanesOnly:
    """What Registry asks of tmux: the instance panes, here as given."""

    def __init__(self, panes: list[Pane]) -> None:
        self.panes = panes

    def instance_panes(self) -> list[Pane]:
        return list(self.panes)


def _registry(tmp_path: Path, panes: list[Pane], saved: list[SavedInstance]) -> Registry:
    state = StateFile(str(tmp_path / "state"))
    with state.locked() as instances:
        instances.update({entry.id: entry for entry in saved})
    return Registry(PanesOnly(panes), state)  # type: ignore[arg-type]


def test_resolve_prefers_a_name_to_an_id_and_finds_panes_and_stopped_ones(tmp_path: Path) -> None:
    other = replace(PANE, pane_id="%2", instance_id="bbbbbb", name="aaaaaa", cwd=str(tmp_path))
    stopped = SavedInstance(id="cccccc", name="docs", cwd=str(tmp_path))
    registry = _registry(tmp_path, [PANE, other], [stopped])
    # "aaaaaa" is api's id and the other's name: the name wins
    assert registry.resolve("aaaaaa").id == "bbbbbb"
    assert registry.resolve("=api").id == "aaaaaa"
    assert registry.resolve("%1").name == "api"
    found = registry.resolve("docs")
    assert (found.state, found.pane) == ("stopped", None)
    with pytest.raises(InstanceNotFoundError) as err:
        registry.resolve("nope")
    assert str(err.value) == "no instance 'nope'; known instances: aaaaaa, api, docs"


def test_for_directory_picks_the_deepest_running_instance(tmp_path: Path) -> None:
    inner = tmp_path / "repo" / "wt"
    inner.mkdir(parents=True)
    outer = replace(PANE, cwd=str(tmp_path / "repo"))
    deep = replace(PANE, pane_id="%2", instance_id="bbbbbb", name="wt", cwd=str(inner))
    registry = _registry(tmp_path, [outer, deep], [])
    assert registry.for_directory(str(inner / "src")) is not None
    assert registry.for_directory(str(inner)).name == "wt"  # type: ignore[union-attr]
    assert registry.for_directory(str(tmp_path / "repo")).name == "api"  # type: ignore[union-attr]
    assert registry.for_directory(str(tmp_path / "repository")) is None  # a prefix, not a parent


def test_state_file_lock_keeps_every_concurrent_update(tmp_path: Path) -> None:
    state = StateFile(str(tmp_path / "state"))

    def add(i: int) -> None:
        with state.locked() as instances:
            instances[f"{i:06x}"] = SavedInstance(id=f"{i:06x}", name=f"n{i}", cwd="/")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(add, range(40)))
    assert sorted(state.read()) == [f"{i:06x}" for i in range(40)]
    assert os.stat(state.path).st_mode & 0o777 == 0o600


def test_state_file_is_written_only_when_changed(tmp_path: Path) -> None:
    state = StateFile(str(tmp_path / "state"))
    with state.locked() as instances:
        instances["aaaaaa"] = SavedInstance(id="aaaaaa", name="api", cwd="/")
    before = os.stat(state.path).st_mtime_ns, os.stat(state.path).st_ino
    with state.locked():
        pass
    assert (os.stat(state.path).st_mtime_ns, os.stat(state.path).st_ino) == before


def test_reserve_under_race_gives_unique_names_and_one_wins_a_wanted_name(tmp_path: Path) -> None:
    state = StateFile(str(tmp_path / "state"))
    spawner = Spawner(config_module.Config(), Tmux(socket_name="unused"), state)
    barrier = threading.Barrier(6)

    def reserve(name: str | None) -> str:
        barrier.wait()
        try:
            entry, new = spawner.reserve(SpawnRequest(cwd=str(tmp_path), name=name))
        except TclaudeError as err:
            return f"error: {err}"
        assert new
        return entry.name

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(reserve, [None, None, None, "api", "api", "api"]))
    defaults = results[:3]
    assert len(set(defaults)) == 3
    assert all(name.startswith(tmp_path.name) for name in defaults)
    assert results[3:].count("api") == 1
    assert results[3:].count("error: an instance named 'api' exists already") == 2
    assert len(state.read()) == 4


def test_reserve_refuses_a_missing_directory_and_writes_nothing(tmp_path: Path) -> None:
    state = StateFile(str(tmp_path / "state"))
    spawner = Spawner(config_module.Config(), Tmux(socket_name="unused"), state)
    with pytest.raises(TclaudeError, match="no such directory"):
        spawner.reserve(SpawnRequest(cwd=str(tmp_path / "gone")))
    assert state.read() == {}


def _write_config(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_config_load_caches_and_notices_a_changed_file(
    isolated_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    _write_config(config_path, 'layout = "split"\n')
    assert config_module.load().layout == "split"
    cache = Path(isolated_env["TCLAUDE_RUNTIME_DIR"]) / "config-cache.json"
    assert json.loads(cache.read_text())["values"]["layout"] == "split"
    assert os.stat(cache).st_mode & 0o777 == 0o600

    _write_config(config_path, 'layout = "tabbed"\nbeside_width = "33%"\n')
    os.utime(config_path, ns=(1, 1))  # a new stat, even within one mtime tick
    loaded = config_module.load()
    assert (loaded.layout, loaded.beside_width) == ("tabbed", "33%")

    monkeypatch.setenv("TCLAUDE_LAYOUT", "split")  # a settings variable: a new key
    assert config_module.load().layout == "split"
    monkeypatch.setenv("TCLAUDE_INSTANCE", "x")  # not a setting: the cache still holds
    mtime = os.stat(cache).st_mtime_ns
    assert config_module.load().layout == "split"
    assert os.stat(cache).st_mtime_ns == mtime


def test_config_load_survives_a_garbage_cache(isolated_env: dict[str, str]) -> None:
    config_path = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    _write_config(config_path, 'layout = "split"\n')
    cache = Path(isolated_env["TCLAUDE_RUNTIME_DIR"]) / "config-cache.json"
    config_module.load()
    for garbage in ("{", "[]", '{"key": 1}', '{"key": "k", "values": {"evil": 1}}'):
        cache.write_text(garbage)
        assert config_module.load().layout == "split"


def test_main_prints_json_and_one_line_errors(
    isolated_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert main(["list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []

    assert main(["nosuch"]) == 2
    assert capsys.readouterr().err == "tclaude: unknown command 'nosuch'; see tclaude --help\n"

    assert main(["send", "nope", "--text", "hi"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no instance 'nope'" in err

    monkeypatch.setenv("TCLAUDE_RUNTIME_DIR", "/proc/nope")
    assert main(["new", "--detached"]) == 1  # an OSError: exit 1, like a full disk
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tclaude: ") and "/proc/nope" in err


@pytest.mark.parametrize(
    ("path", "root", "expected"),
    [
        ("/a/b", "/a", True),
        ("/a", "/a/", True),
        ("/ab", "/a", False),
        ("/a/b", "/", True),
        ("/", "/", True),
        ("/a", "/a/b", False),
    ],
)
def test_inside_is_by_path_components(path: str, root: str, expected: bool) -> None:
    assert paths.inside(path, root) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("feat/login", "feat-login"), ("--x--", "x"), ("ü", "fallback"), ("a" * 60, "a" * 10)],
)
def test_slug_makes_a_name(text: str, expected: str) -> None:
    assert slug(text, 10, "fallback") == expected
    assert NAME_PATTERN.fullmatch(slug(text, 10, "fallback"))


def test_tclaude_debug_prints_every_tmux_argv_and_nothing_without_it(
    isolated_env: dict[str, str],
) -> None:
    import subprocess
    import sys

    def run(**extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tmuxclaude", "list"],
            env={**isolated_env, **extra},
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )

    debug = run(TCLAUDE_DEBUG="1")
    lines = [line for line in debug.stderr.splitlines() if "tmuxclaude.tmux" in line]
    assert len(lines) == 1 and " list-panes -a " in lines[0], debug.stderr
    assert "tmuxclaude.tmux" not in run().stderr


def test_corrupt_state_file_copies_are_kept_newest_five(tmp_path: Path) -> None:
    state = StateFile(str(tmp_path / "state"))
    os.makedirs(state.directory)
    for i in range(8):
        Path(state.path).write_text(f"garbage {i}")
        with pytest.raises(TclaudeError, match="is corrupt"):
            state.read()
        for backup in Path(state.directory).glob("instances.json.corrupt-*"):
            age = int(backup.read_text().split()[1])  # mtimes in the order written
            os.utime(backup, ns=(age, age))
    kept = sorted(p.read_text() for p in Path(state.directory).glob("instances.json.corrupt-*"))
    assert kept == [f"garbage {i}" for i in range(3, 8)]


def test_instance_panes_of_a_server_that_is_exiting_are_none(
    isolated_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list-panes -a racing the server's exit gets "no current target" (measured on
    tmux 3.3a, about 2 % of calls): kill --all failed with it under load."""
    import subprocess

    tmux = Tmux(socket_name=isolated_env["TCLAUDE_TMUX_SOCKET"])
    exiting = subprocess.CompletedProcess(["tmux"], 1, "", "no current target\n")
    monkeypatch.setattr(tmux, "_exec", lambda *_a, **_k: exiting)
    assert tmux.instance_panes() == []


def test_an_error_quoting_a_crafted_name_reaches_the_terminal_printable(
    isolated_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """An error names what it could not use: a file name may carry escape sequences."""
    crafted = "x\x1b]0;PWNED\x07\x1b[2J"
    assert main(["new", "--cwd", crafted, "--detached"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err
    assert err.startswith("tclaude: no such directory: x]0;PWNED[2J") and err.count("\n") == 1


def test_a_remote_target_for_a_local_only_verb_says_so(tmp_path: Path) -> None:
    registry = _registry(tmp_path, [PANE], [])
    with pytest.raises(TclaudeError, match="works on local instances only"):
        registry.resolve("alpha:r5")


def test_the_light_copies_in_watch_match_their_originals() -> None:
    """watch.py keeps its own copies so that the host starts light; they may not drift."""
    from tmuxclaude import state_file, state_tracker, watch

    assert watch.STATES == state_tracker.STATES
    assert watch.ID_PATTERN.pattern == state_file.ID_PATTERN.pattern
    assert watch.NAME_PATTERN.pattern == state_file.NAME_PATTERN.pattern
