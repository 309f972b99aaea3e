"""The asyncio side of a host: servers up, claude running, signals handled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING, Any

from .. import paths, proctree, runtime_files
from .. import watch as events
from ..protocol.jsonrpc import JsonObject
from ..state_tracker import ATTENTION, Change, StateTracker
from . import child, hook_settings, peer
from .attention import Attention
from .editor_socket import EditorSocket
from .hook_server import HookServer
from .ide_server import IdeServer
from .pane_options import PaneOptions
from .router import Router
from .startup import VERSION, HostFiles, HostOptions, signal_ready

if TYPE_CHECKING:
    from .claude_sessions import CrossCheck

logger = logging.getLogger(__name__)

STOP_GRACE = 5.0  # seconds claude has after SIGTERM/SIGHUP before SIGKILL
QUIET_SIGNALS = (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP)  # the terminal's, for claude
FAILED_START = 5.0  # a claude that fails within this many seconds failed at start
CWD_CHECK = 5.0  # seconds between checks that the instance's directory still exists
USAGE_REREAD = (0.0, 1.0, 3.0)  # seconds after a turn's end (each from the previous)


class Host:
    """Everything a running host holds; ``main`` returns the exit status."""

    def __init__(
        self,
        options: HostOptions,
        argv: list[str],
        cwd: str,
        sock: socket.socket,
        token: str,
        files: HostFiles,
    ) -> None:
        self.options = options
        self.argv = argv
        self.cwd = cwd
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        self.token = token
        self.files = files
        self.started = time.time()
        self.tracker = StateTracker()
        self.claude: asyncio.subprocess.Process | None = None
        self.router = Router(cwd, self._is_our_claude)
        self.ide = IdeServer(
            self.router, token, f"tclaude:{options.name}", VERSION, self._holds_socket
        )
        self.editors = EditorSocket(self.router, self.status)
        self._stop_signal: int | None = None
        self.pane = PaneOptions(channel=f"tclaude-{options.instance_id}")
        # its own token: the IDE's is in the lock file, for any claude to read
        self.hooks = HookServer(os.urandom(16).hex(), self._on_hook)
        self.attention = Attention(self.pane.pane, options.name, options.notify)
        self._tasks: set[asyncio.Task[None]] = set()
        self._usage_task: asyncio.Task[None] | None = None  # re-reads after a turn; cancellable
        self._beneath_stale = "idle"  # while stale: the state it would have, for its return
        self._pane_stderr: int | None = None  # the pane's stderr, for claude alone
        self.registry: CrossCheck | None = None  # Claude Code's session registry, once claude runs
        self.usage_text: str | None = None  # "42% $1.23" of the turn last ended
        self.router.on_diff_answered = self._diff_answered
        self.router.on_change = lambda: self.pane.set_later(
            {"@tclaude-clis": str(self.router.ready_clis)}
        )

    @property
    def state(self) -> str:
        return self.tracker.state

    def _is_our_claude(self, pid: int) -> bool:
        return proctree.is_descendant(pid, os.getpid())

    def _holds_socket(self, client: tuple[str, int], server: tuple[str, int]) -> bool:
        return peer.owned_by_tree(client, server, os.getpid())

    def status(self) -> JsonObject:
        return {
            "id": self.options.instance_id,
            "name": self.options.name,
            "cwd": self.cwd,
            "port": self.port,
            "pid": os.getpid(),
            "claude_pid": self.claude.pid if self.claude else None,
            "state": self.state,
            "clis": self.router.ready_clis,
            "editors": [e.name for e in self.router.editors],
            "pending_diffs": sorted(self.router.pending),
            "lockfile": self.files.lockfile,
            "socket": self.files.socket,
            "started": self.started,
            "usage_text": self.usage_text,
        }

    def _record(self) -> dict[str, Any]:
        status = self.status()
        return {
            k: status[k]
            for k in (
                "id",
                "name",
                "cwd",
                "port",
                "pid",
                "claude_pid",
                "lockfile",
                "socket",
                "started",
            )
        }

    async def main(self) -> int:
        """Run until claude exits; from here on the host writes nothing on the pane."""
        paths.ensure_private_dir(paths.runtime_dir())
        self._pane_stderr = _setup_logging(self.options.instance_id)
        try:
            return await self._main()
        except Exception:
            logger.critical("host failed", exc_info=True)
            if self.claude is not None and self.claude.returncode is None:
                self.claude.kill()
            self.files.remove()
            return 1
        finally:
            os.close(self._pane_stderr)

    async def _main(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in QUIET_SIGNALS:
            loop.add_signal_handler(sig, lambda: None)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, self._on_stop_signal, sig)
        await self.ide.start(self.sock)
        self.files.socket = runtime_files.socket_path(self.options.instance_id)
        await self.editors.start(self.files.socket)
        self.files.record = runtime_files.write(self.options.instance_id, self._record())
        if self.options.hooks:
            await self.hooks.start()
            args, user = hook_settings.take_user_settings(self.argv[1:])
            self.files.hook_url = runtime_files.hook_url_path(self.options.instance_id)
            self.files.settings = hook_settings.write(
                self.options.instance_id, self.hooks.url, user, self._hook_events()
            )
            self.argv = [self.argv[0], *args, "--settings", self.files.settings]
        self.pane.set_now(
            {
                "@tclaude-id": self.options.instance_id,
                "@tclaude-name": self.options.name,
                "@tclaude-cwd": self.cwd,
                "@tclaude-port": str(self.port),
                "@tclaude-pid": str(os.getpid()),
                "@tclaude-state": self.state,
                "@tclaude-state-since": str(int(time.time())),
                "@tclaude-clis": "0",
            }
        )
        signal_ready(self.options.ready_fifo, {"ready": True, **self._record()})
        self._publish("created")
        self._spawn(self._record_start_commit())
        watch = asyncio.get_running_loop().create_task(self._watch_cwd())
        try:
            code = await self._run_claude()
        finally:
            watch.cancel()  # a directory back after claude ended brings no state back
            # unpublish first: nothing finds this instance once its editors see it go
            self.files.remove()
            await self.hooks.close()
            await self.editors.close()
            await self.ide.close()
        failed_at_start = (
            code != 0 and self._stop_signal is None and (time.time() - self.started < FAILED_START)
        )
        self.set_state("error" if failed_at_start else "stopped")
        if failed_at_start:
            # keep the pane and what claude printed, marked error, for the user to read
            self.pane.set_later({"remain-on-exit": "on"})
        await self.pane.flush()
        watch.cancel()
        if self._usage_task is not None:
            self._usage_task.cancel()  # only sleeps and reads a file: nothing to wait for
        # let notifications (tmux subprocesses) finish: cancelling an asyncio
        # subprocess while it starts can hang the loop's shutdown for good
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        return code

    def _hook_events(self) -> tuple[str, ...]:
        """The hook events the claude about to start knows (cached ``--version``)."""
        from .. import claude_version

        binary = claude_version.resolve(self.argv[0])
        version = claude_version.version_of(binary) if binary else None
        if version is None:
            logger.info("claude version unknown: all hook events")
        return hook_settings.events_for(version)

    def set_state(self, state: str) -> None:
        """Set the state from outside the hooks (claude exited, failed at start)."""
        if state != self.tracker.state:
            self.tracker.state = state
            self._apply(Change(state))

    def _diff_answered(self, answer: str) -> None:
        """An editor answered a diff: leave ``waiting`` before the CLI even hears it.

        The registry's older ``waiting`` no longer counts (as after a hook); what
        the CLI does next (a hook, or its registry saying idle) sets the state.
        """
        change = self.tracker.permission_answered()
        if self.registry is not None:
            self.registry.hook_seen(change)
        if change.state is not None:
            logger.debug("diff answered (%s): %s", answer, change.state)
            self._apply(change)

    def _on_hook(self, payload: dict[str, Any]) -> None:
        before = self.tracker.state
        change = self.tracker.feed(payload)
        if self.registry is not None:
            self.registry.hook_seen(change)
        logger.debug(
            "hook %s: %s -> %s", payload.get("hook_event_name"), before, self.tracker.state
        )
        if before == "stale" and change.state is not None:
            # the directory is gone: that says more than any later turn's state
            self._beneath_stale = change.state
            self.tracker.state = "stale"
            change = Change(
                None, change.unseen, change.session_id, change.session_source, change.transcript
            )
        self._apply(change)
        if payload.get("hook_event_name") in ("Stop", "StopFailure"):
            if self._usage_task is not None:
                self._usage_task.cancel()  # a newer turn's end supersedes it
            self._usage_task = asyncio.get_running_loop().create_task(self._publish_usage(payload))

    async def _publish_usage(self, payload: dict[str, Any]) -> None:
        """Set ``@tclaude-usage`` (``42% $1.23``) from the transcript the turn ended in."""
        from ..session_ids import trusted_transcript

        path = payload.get("transcript_path")
        if not trusted_transcript(path, payload.get("session_id")):
            return
        # the CLI may append the turn's last record after its Stop hook: read again
        # a little later (incremental reads: a stat when nothing came)
        for delay in USAGE_REREAD:
            await asyncio.sleep(delay)
            try:
                text = await asyncio.to_thread(_usage_text, str(path))
            except Exception:  # usage is a nicety: never let it take the host down
                logger.warning("usage not read from %s", path, exc_info=True)
                return
            if text is not None and text != self.usage_text:
                self.usage_text = text
                self.pane.set_later({"@tclaude-usage": text})
                self.editors.notify_editors("usage_changed", {"text": text})

    def _apply(self, change: Change) -> None:
        """Publish one change: pane options, editors, the state file, the user."""
        options: dict[str, str] = {}
        if change.state is not None:
            since = int(time.time())
            options["@tclaude-state"] = change.state
            options["@tclaude-state-since"] = str(since)
            self.editors.notify_editors("state_changed", {"state": change.state, "since": since})
            self._publish("state", unseen=bool(change.unseen))
        if change.unseen is not None:
            options["@tclaude-unseen"] = "1" if change.unseen else ""
        if options:
            self.pane.set_later(options)
        if change.session_id is not None:
            self._remember_session(change)
        notify = change.state in ATTENTION and (change.state != "idle" or change.unseen)
        if notify and change.state is not None:
            self._spawn(self.attention.notify(change.state))

    def _publish(self, kind: str, unseen: bool = False) -> None:
        """Tell every ``tclaude watch`` (a datagram each, never blocking)."""
        events.publish(
            {
                "type": kind,
                "id": self.options.instance_id,
                "name": self.attention.name,  # the newest name this host knows
                "state": self.state,
                "unseen": unseen,
                "cwd": self.cwd if events.valid_cwd(self.cwd) else None,
                "pane": self.pane.pane,
                "port": self.port,
            }
        )

    def _remember_registry_session(self, session_id: str) -> None:
        """Record a session id that only Claude Code's registry reported (see claude_sessions)."""
        from ..state_file import StateFile

        try:
            StateFile().update(self.options.instance_id, session_id=session_id)
        except Exception:  # the state file is the CLI's; never die for it
            logger.warning("session id %s not recorded", session_id, exc_info=True)

    async def _watch_cwd(self) -> None:
        """Mark the instance stale (and say so) while its directory is gone (a deleted
        worktree, an unmounted disk); when it is back, the state the hooks gave meanwhile."""
        interval = float(os.environ.get("TCLAUDE_CWD_CHECK", CWD_CHECK))
        while True:
            while os.path.isdir(self.cwd):
                await asyncio.sleep(interval)
            logger.warning("%s is gone: instance stale", self.cwd)
            self._beneath_stale = self.tracker.state
            self.set_state("stale")
            while not os.path.isdir(self.cwd):
                await asyncio.sleep(interval)
            logger.warning("%s is back: instance %s", self.cwd, self._beneath_stale)
            self.set_state(self._beneath_stale)

    def _remember_session(self, change: Change) -> None:
        """Keep the Claude session id (and transcript) for ``tclaude restore``."""
        from ..state_file import StateFile

        try:
            StateFile().update(
                self.options.instance_id,
                session_id=change.session_id,
                session_source=change.session_source,
                transcript=change.transcript,
            )
        except Exception:  # the state file is the CLI's; never die for it
            logger.warning("session id %s not recorded", change.session_id, exc_info=True)

    async def _record_start_commit(self) -> None:
        """Keep the cwd's HEAD in the state file: ``tclaude diff``'s base (after ready)."""
        commit = await asyncio.to_thread(_head_commit, self.cwd)
        if commit is None:
            return
        from ..state_file import StateFile

        def keep_first() -> None:  # a restored instance keeps the start it had
            with StateFile().locked() as entries:
                entry = entries.get(self.options.instance_id)
                if entry is not None and entry.start_commit is None:
                    entry.start_commit = commit

        try:
            await asyncio.to_thread(keep_first)
        except Exception:  # the state file is the CLI's; never die for it
            logger.warning("start commit %s not recorded", commit, exc_info=True)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_stop_signal(self, sig: int) -> None:
        self._stop_signal = sig
        if self.claude is not None and self.claude.returncode is None:
            # os.kill, not send_signal: that polls the child and can reap it before
            # asyncio's watcher does (then the exit status is lost: 255)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.claude.pid, sig)
            asyncio.get_running_loop().call_later(STOP_GRACE, self._kill_claude)

    def _kill_claude(self) -> None:
        if self.claude is not None and self.claude.returncode is None:
            logger.warning("claude ignored the stop signal; killed")
            self.claude.kill()

    async def _run_claude(self) -> int:
        if self._stop_signal is not None:
            return 128 + self._stop_signal
        env = child.environment(
            dict(os.environ), port=self.port, instance_id=self.options.instance_id
        )
        self.claude = await asyncio.create_subprocess_exec(
            *self.argv, cwd=self.cwd, env=env, stderr=self._pane_stderr
        )
        if self._stop_signal is not None:  # arrived while claude was being spawned
            self._on_stop_signal(self._stop_signal)
        self.files.record = runtime_files.write(self.options.instance_id, self._record())
        logger.info("claude started, pid %s", self.claude.pid)
        from .claude_sessions import CrossCheck  # after ready: off the start-up path

        self.registry = CrossCheck(self.tracker, self._apply, self._remember_registry_session)
        registry = asyncio.get_running_loop().create_task(
            self.registry.watch(paths.claude_config_dir(), self.claude.pid)
        )
        try:
            code = await self.claude.wait()
        finally:
            registry.cancel()
        logger.info("claude exited with %s", code)
        return code if code >= 0 else 128 - code


def _head_commit(cwd: str) -> str | None:
    """HEAD of the git worktree holding ``cwd``; None outside one or before a first commit."""
    import subprocess

    try:
        proc = subprocess.run(
            ["git", "-C", cwd, "rev-parse", "--verify", "-q", "HEAD"],
            capture_output=True,
            check=False,
            timeout=30,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = proc.stdout.decode(errors="replace").strip()
    if proc.returncode != 0 or len(commit) != 40 or commit.strip("0123456789abcdef"):
        return None
    return commit


def _usage_text(path: str) -> str | None:
    from .. import config
    from ..usage import UsageReader, short

    reader = UsageReader()
    usage = reader.read(path)
    reader.save()
    if usage is None:
        return None
    # the cached config only: validating would import pydantic into the host (memory)
    cached = config.load_cached()
    prices = {**config.default_prices(), **(cached.prices if cached else {})}
    return short(usage.to_json(prices))


def _setup_logging(instance_id: str) -> int:
    """Send everything the host would print to ``<id>.log`` (0600); return the pane's stderr.

    Every logger (ours, websockets', asyncio's, the root's, ``lastResort``),
    warnings, and whatever still reaches fd 2 (an unraisable exception, the
    interpreter's last words) go to the file: the pane is claude's. The
    returned fd is the original stderr, for claude alone.
    """
    level = os.environ.get("TCLAUDE_LOG_LEVEL", "WARNING").upper()
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(runtime_files.log_path(instance_id), flags, 0o600)
    os.fchmod(fd, 0o600)  # an older file, or one made under another umask
    stream = os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace", buffering=1)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    ours = logging.getLogger("tmuxclaude")
    ours.setLevel(level if level in logging.getLevelNamesMapping() else "WARNING")
    logging.lastResort = handler
    logging.captureWarnings(True)
    pane = os.dup(2)
    sys.stderr.flush()
    os.dup2(fd, 2)
    return pane
