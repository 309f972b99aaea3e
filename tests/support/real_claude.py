"""Run the real Claude Code CLI offline, in a private tmux server, for tests.

Nothing here touches the developer's own tmux server or ``~/.claude``:
``TmuxDriver`` always passes ``-L <socket name>``, and ``claude_env`` points
``HOME`` and ``CLAUDE_CONFIG_DIR`` into a directory the test owns. The binary
comes from ``scripts/install-claude`` (or ``TCLAUDE_TEST_CLAUDE``).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import threading
import time
import typing as t
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support import tmux_servers

if t.TYPE_CHECKING:
    from types import TracebackType

#: The pinned CLIs the real-CLI tests run against: the oldest tclaude supports
#: and the newest (tmuxclaude/claude_version.py holds the same range).
CLAUDE_VERSIONS = ("2.1.197", "2.1.332")
CLAUDE_VERSION = CLAUDE_VERSIONS[0]
API_KEY = "sk-ant-dummy"

#: The footer below the input box when the CLI is idle and takes typing:
#: "? for shortcuts" in default mode ("manual" in 2.1.332), "⏵⏵ accept edits
#: on (shift+tab to cycle)" / "⏵⏵ auto mode on ..." / "⏸ plan mode on ..." in
#: the others. While a turn runs the same footer carries "esc to interrupt".
PROMPT_READY_RE = re.compile(r"^\s*(?!.*esc to interrupt)(?:\? for shortcuts|⏵⏵ |⏸ )", re.M)
#: The footer while a turn runs (in every permission mode).
BUSY_RE = re.compile(r"^\s*(?:.* · )?esc to interrupt", re.M)
#: The question of the terminal permission prompt ("Do you want to create
#: hello.txt?" for a new file), above its numbered options.
PERMISSION_PROMPT_RE = re.compile(r"^\s*Do you want to .+\?\s*$", re.M)
#: A row of the slash-command menu: "/clear   Clear conversation ..." (2.1.332
#: starts the selected row with "❯ ").
SLASH_MENU_RE = re.compile(r"^\s*(?:❯ )?/\S+\s{2,}\S", re.M)


def wrote_re(lines: int, name: str) -> re.Pattern[str]:
    """The line after an accepted write: "Wrote 1 lines to X" (2.1.197), "Wrote 1 line"."""
    return re.compile(rf"Wrote {lines} lines? to {re.escape(name)}")


def rejected_re(name: str) -> re.Pattern[str]:
    """The line after a rejected write: "User rejected write to X" (2.1.197), "Rejected ..."."""
    return re.compile(rf"(?:User rejected|Rejected) write to {re.escape(name)}")


#: HOME as it was when this module was imported, before any test isolated it.
_IMPORT_HOME = Path.home()


def cache_dir(version: str = CLAUDE_VERSION) -> Path:
    """Where ``scripts/install-claude VERSION`` puts that CLI.

    ``TCLAUDE_TEST_CACHE``, else ``~/.cache/tclaude`` of the HOME this module
    was imported under (tests point HOME elsewhere later).
    """
    base = os.environ.get("TCLAUDE_TEST_CACHE") or str(_IMPORT_HOME / ".cache" / "tclaude")
    return Path(base) / f"claude-code-{version}"


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _reported_version(binary: Path) -> str | None:
    """``"2.1.332"`` from ``binary --version``; None when it prints no version."""
    try:
        out = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"\s*(\d+\.\d+\.\d+)", out.stdout)
    return match.group(1) if match else None


_BINARIES: dict[str, Path] | None = None


def claude_binaries() -> dict[str, Path]:
    """The CLIs to test with, by the version each reports, oldest first; maybe empty.

    ``TCLAUDE_TEST_CLAUDE`` (paths separated by ``:``) wins; otherwise each
    pinned version installed in the cache. Computed once per test run.
    """
    global _BINARIES
    if _BINARIES is None:
        override = os.environ.get("TCLAUDE_TEST_CLAUDE")
        if override:
            candidates = [Path(p) for p in override.split(os.pathsep) if p]
        else:
            candidates = [
                cache_dir(v) / "node_modules" / ".bin" / "claude" for v in CLAUDE_VERSIONS
            ]
        found: dict[str, Path] = {}
        for path in candidates:
            version = _reported_version(path) if _executable(path) else None
            if version is not None:
                found[version] = path
        key = lambda v: tuple(int(part) for part in v.split("."))  # noqa: E731
        _BINARIES = {v: found[v] for v in sorted(found, key=key)}
    return _BINARIES


def claude_binary() -> Path | None:
    """The oldest CLI of ``claude_binaries()``, or None (for tests that need just one)."""
    binaries = claude_binaries()
    return next(iter(binaries.values())) if binaries else None


def skip_reason() -> str:
    """Why real-CLI tests cannot run here (meaningful when claude_binaries() is empty)."""
    override = os.environ.get("TCLAUDE_TEST_CLAUDE")
    if override:
        return f"TCLAUDE_TEST_CLAUDE={override}: no executable there reports a version"
    return (
        f"Claude Code CLI {' / '.join(CLAUDE_VERSIONS)} not installed in {cache_dir().parent}; "
        "run scripts/install-claude VERSION"
    )


@dataclass(frozen=True)
class RealClaude:
    """One CLI under test: its version (the test id) and its binary."""

    version: str
    binary: Path

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        major, minor, patch = (int(part) for part in self.version.split("."))
        return major, minor, patch


def real_claude_params() -> list[t.Any]:
    """``pytest.param`` per CLI of ``claude_binaries()`` (id: its version), or one skip."""
    import pytest

    binaries = claude_binaries()
    if not binaries:
        return [pytest.param(None, id="no-claude", marks=pytest.mark.skip(reason=skip_reason()))]
    return [pytest.param(RealClaude(v, b), id=v) for v, b in binaries.items()]


def seed_config(
    config_dir: Path, cwd: Path, api_key: str = API_KEY, version: str = CLAUDE_VERSION
) -> Path:
    """Write ``.claude.json`` so no first-run dialog blocks the input prompt.

    Merges into an existing file (for a second launch with the same home).
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / ".claude.json"
    config: dict[str, object] = {}
    if path.exists():
        config = json.loads(path.read_text())
    config.update(
        {
            "hasCompletedOnboarding": True,
            "lastOnboardingVersion": version,
            "lastReleaseNotesSeen": version,
            "fullscreenUpsellSeenCount": 99,
            "numStartups": 1,
            "customApiKeyResponses": {"approved": [api_key[-20:]], "rejected": []},
        }
    )
    projects = config.setdefault("projects", {})
    assert isinstance(projects, dict)
    project = projects.setdefault(str(cwd.resolve()), {})
    project.update(
        {
            "hasTrustDialogAccepted": True,
            "hasCompletedProjectOnboarding": True,
            "projectOnboardingSeenCount": 99,
            "allowedTools": [],
        }
    )
    path.write_text(json.dumps(config, indent=2))
    return path


def claude_env(
    home: Path, cwd: Path, api_url: str, version: str = CLAUDE_VERSION
) -> dict[str, str]:
    """A complete environment for running the real CLI offline.

    ``HOME`` is ``home`` and ``CLAUDE_CONFIG_DIR`` is ``home/.claude``; the
    config is seeded for ``cwd`` (see ``seed_config``). Nothing of the
    caller's environment leaks in but ``PATH`` and the locale.
    """
    config_dir = home / ".claude"
    seed_config(config_dir, cwd, version=version)
    env = {
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(config_dir),
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "TERM": "xterm-256color",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "LC_ALL": "C.UTF-8",
        "SHELL": "/bin/bash",
        "USER": os.environ.get("USER", "tester"),
        "TMPDIR": str(home / "tmp"),
        "ANTHROPIC_API_KEY": API_KEY,
        "ANTHROPIC_BASE_URL": api_url,
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        # both pinned CLIs try to git clone the plugin marketplace at every start
        "CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    return env


def claude_argv(
    binary: Path,
    *,
    settings: Path | None = None,
    session_id: str | None = None,
    resume: str | None = None,
    extra: list[str] | None = None,
) -> list[str]:
    """``claude`` with the flags the tests rely on.

    ``--permission-mode default`` so writes ask (newer CLIs default to an
    automatic mode). ``settings`` is passed as ``--settings``.
    """
    argv = [str(binary), "--permission-mode", "default"]
    if settings is not None:
        argv += ["--settings", str(settings)]
    if session_id is not None:
        argv += ["--session-id", session_id]
    if resume is not None:
        argv += ["--resume", resume]
    return argv + list(extra or [])


#: How long a screen must stay unchanged to count as settled (seconds). Not a
#: limit on the CLI's speed: waiting longer only makes a test slower.
SETTLE = 0.4


def settled(
    capture: t.Callable[[], str], screen: str, timeout: float, quiet: float = SETTLE
) -> str:
    """Poll ``capture`` until it returns the same screen for ``quiet`` seconds; return it.

    ``screen`` is the last one seen. When the screen keeps changing (a
    spinner) for ``timeout`` seconds, the current one is returned: the keys
    then go out as they did before this wait existed.
    """
    deadline = time.monotonic() + timeout
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = capture()
        if now != screen:
            screen, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return screen


class TmuxDriver:
    """One private tmux server (``tmux -L <name>``) holding one session.

    The server is the test's own: ``kill`` ends it and every pane in it. A
    pane inherits the tmux *server's* environment, so ``start`` passes the
    command's environment explicitly through ``env -i``.
    """

    def __init__(self, socket_name: str | None = None, width: int = 200, height: int = 50) -> None:
        self.socket_name = socket_name or f"{tmux_servers.PREFIX}realcli-{uuid.uuid4().hex[:10]}"
        self.width = width
        self.height = height
        self.session = "t"
        self.tmux = shutil.which("tmux") or "/usr/bin/tmux"
        self.socket_path: Path | None = None

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run one tmux command against this server."""
        return subprocess.run(
            [self.tmux, "-L", self.socket_name, *args],
            capture_output=True,
            text=True,
            check=check,
            env={**os.environ, "TMUX": ""},
            timeout=10,
        )

    @property
    def target(self) -> str:
        return f"={self.session}:"

    def start(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        """Start the session running ``argv`` in ``cwd`` with exactly ``env``.

        The pane stays open after the command exits (``remain-on-exit``) so
        its last screen can still be captured.
        """
        command = shlex.join(["env", "-i", *(f"{k}={v}" for k, v in env.items()), *argv])
        # One tmux call, so remain-on-exit holds before the command can exit.
        self.run(
            "-f", "/dev/null", "start-server", ";",
            "set-option", "-g", "remain-on-exit", "on", ";",
            "new-session", "-d", "-s", self.session,
            "-x", str(self.width), "-y", str(self.height),
            "-c", str(cwd), command,
        )  # fmt: skip
        self.socket_path = Path(self.run("display-message", "-p", "#{socket_path}").stdout.strip())

    def capture(self, history: bool = False) -> str:
        """The visible screen, wrapped lines joined; with ``history`` the scrollback too.

        When the command exits, tmux's "Pane is dead" line can scroll the
        top line of the screen into the history.
        """
        extra = ("-S", "-") if history else ()
        return self.run("capture-pane", "-p", "-J", *extra, "-t", self.target).stdout

    def pane_dead(self) -> bool:
        """Whether the pane's command has exited."""
        out = self.run("display-message", "-p", "-t", self.target, "#{pane_dead}", check=False)
        return out.stdout.strip() == "1"

    def wait_for_text(self, pattern: str | re.Pattern[str], timeout: float = 15.0) -> str:
        """Poll the screen every 100 ms until ``pattern`` matches; return that screen.

        On timeout raise AssertionError carrying the last screen.
        """
        regex = re.compile(pattern, re.M) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        screen = ""
        while True:
            screen = self.capture()
            if regex.search(screen):
                return screen
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{regex.pattern!r} not on screen within {timeout}s; last screen:\n{screen}"
                )
            time.sleep(0.1)

    def wait_for_no_text(self, pattern: str | re.Pattern[str], timeout: float = 15.0) -> str:
        """Poll until ``pattern`` is gone from the screen; return that screen."""
        regex = re.compile(pattern, re.M) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            screen = self.capture()
            if not regex.search(screen):
                return screen
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{regex.pattern!r} still on screen after {timeout}s; last screen:\n{screen}"
                )
            time.sleep(0.1)

    def wait_until_settled(
        self, pattern: str | re.Pattern[str], timeout: float = 15.0, quiet: float = SETTLE
    ) -> str:
        """Wait for ``pattern``, then until the screen stays unchanged for ``quiet`` seconds.

        Keys sent after that are taken: a permission prompt of 2.1.332 drops
        Enter and digits that arrive in its first ~0.2 s.
        """
        return settled(self.capture, self.wait_for_text(pattern, timeout), timeout, quiet)

    def send_keys(self, *keys: str) -> None:
        """Send tmux key names (``Enter``, ``Escape``, ``C-c``, ``1``, ...)."""
        self.run("send-keys", "-t", self.target, *keys)

    def send_text_literal(self, text: str) -> None:
        """Type ``text`` as-is (``send-keys -l``), without pressing Enter."""
        self.run("send-keys", "-t", self.target, "-l", text)

    def kill(self) -> None:
        """Kill the whole private server and remove its socket file.

        Safe to call twice or after the server died. tmux 3.3a leaves the
        socket file behind on ``kill-server``, hence the unlink.
        """
        self.run("kill-server", check=False)
        if self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)


def wait_until_prompt_ready(driver: TmuxDriver, timeout: float = 20.0) -> str:
    """Wait until the CLI's input box takes typing; return the screen.

    Also true again once a turn is over (the footer says ``esc to
    interrupt`` while the CLI is busy).
    """
    return driver.wait_for_text(PROMPT_READY_RE, timeout=timeout)


def submit_prompt(driver: TmuxDriver, text: str) -> None:
    """Type ``text`` into the input box and press Enter.

    A slash command gets a short pause before Enter: the CLI opens its
    completion menu as the ``/`` arrives and Enter must not beat it.
    """
    driver.send_text_literal(text)
    if text.startswith("/"):
        driver.wait_for_text(SLASH_MENU_RE, timeout=5)
    driver.send_keys("Enter")


def exit_claude(driver: TmuxDriver, timeout: float = 10.0) -> None:
    """Leave the CLI as a user does (Ctrl-D twice) and wait for its exit.

    SessionEnd hooks fire with ``reason: prompt_input_exit``.
    """
    driver.send_keys("C-d")
    driver.wait_for_text("Press Ctrl-D again to exit", timeout=5)
    driver.send_keys("C-d")
    deadline = time.monotonic() + timeout
    while not driver.pane_dead():
        if time.monotonic() >= deadline:
            raise AssertionError(f"claude did not exit; last screen:\n{driver.capture()}")
        time.sleep(0.1)


def launch_claude(
    driver: TmuxDriver,
    argv: list[str],
    env: dict[str, str],
    cwd: Path,
    timeout: float = 20.0,
) -> str:
    """Start ``argv`` in ``driver`` and wait for the input box; return the screen."""
    driver.start(argv, env, cwd)
    return wait_until_prompt_ready(driver, timeout=timeout)


HOOK_EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PermissionRequest",
    "PostToolUse",
    "Notification",
    "Stop",
    "SessionEnd",
)
#: Events whose hooks take a ``matcher`` (tool name, or notification type).
_MATCHER_EVENTS = frozenset({"PreToolUse", "PostToolUse", "PermissionRequest", "Notification"})


@dataclass(frozen=True)
class HookCall:
    """One hook input as received, with its arrival time (``time.monotonic``)."""

    event: str
    payload: dict[str, t.Any]
    at: float


class HookRecorder:
    """A loopback HTTP endpoint for ``http`` hooks that records every POST.

    Answers ``{}`` (no decision, nothing injected) after ``delay`` seconds.
    Use as a context manager; ``calls`` is a thread-safe snapshot.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self._calls: list[HookCall] = []
        self._cond = threading.Condition()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: t.Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    payload = json.loads(raw or b"{}")
                except ValueError:
                    payload = {"_raw": raw.decode(errors="replace")}
                recorder._add(payload)
                if recorder.delay:
                    time.sleep(recorder.delay)
                data = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HookRecorder:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def _add(self, payload: dict[str, t.Any]) -> None:
        with self._cond:
            event = str(payload.get("hook_event_name", "?"))
            self._calls.append(HookCall(event, payload, time.monotonic()))
            self._cond.notify_all()

    @property
    def calls(self) -> list[HookCall]:
        with self._cond:
            return list(self._calls)

    def events(self) -> list[str]:
        """The ``hook_event_name`` of every call, in arrival order."""
        return [call.event for call in self.calls]

    def wait_for_event(self, event: str, count: int = 1, timeout: float = 15.0) -> list[HookCall]:
        """Block until ``event`` arrived ``count`` times; AssertionError on timeout."""
        with self._cond:
            if self._cond.wait_for(
                lambda: sum(c.event == event for c in self._calls) >= count, timeout=timeout
            ):
                return list(self._calls)
            seen = [c.event for c in self._calls]
        raise AssertionError(f"hook {event} x{count} not received within {timeout}s; got {seen}")


def hook_settings(
    url: str | None = None,
    *,
    command: str | None = None,
    events: t.Iterable[str] = HOOK_EVENTS,
    timeout: int = 10,
) -> dict[str, t.Any]:
    """A ``--settings`` document hooking ``events`` to ``url`` and/or ``command``.

    Matcher events get ``"*"`` so every tool and notification type fires.
    """
    handlers: list[dict[str, t.Any]] = []
    if url is not None:
        handlers.append({"type": "http", "url": url, "timeout": timeout})
    if command is not None:
        handlers.append({"type": "command", "command": command, "timeout": timeout})
    hooks: dict[str, t.Any] = {}
    for event in events:
        group: dict[str, t.Any] = {"hooks": handlers}
        if event in _MATCHER_EVENTS:
            group = {"matcher": "*", **group}
        hooks[event] = [group]
    return {"hooks": hooks}


def command_hook_logger(log: Path) -> str:
    """A ``command`` hook that appends its JSON input as one line to ``log``."""
    quoted = shlex.quote(str(log))
    return f"cat >> {quoted}; echo >> {quoted}"


def read_command_hook_log(log: Path) -> list[dict[str, t.Any]]:
    """The hook inputs ``command_hook_logger`` wrote, in order."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
