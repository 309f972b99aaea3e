"""The one place that talks to tmux.

Every call is one ``tmux`` process (a few ms), so reads are batched into a
single ``list-panes -a -F`` with a format and writes into one command
sequence. Instances are found by their ``@tclaude-id`` pane option; panes are
targeted by id (``%N``), never by a name prefix. Import-light: the host uses
it too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .errors import NotFoundError, TmuxError
from .paths import which
from .state_file import ID_PATTERN, NAME_PATTERN
from .states import STATES

SEP = "\t"
# Fields read for every instance pane; cwd last as it is the only free text.
PANE_FIELDS = (
    "pane_id",
    "window_id",
    "session_name",
    "window_index",
    "pane_index",
    "pane_active",
    "window_active",
    "session_attached",
    "window_zoomed_flag",
    "pane_dead",
    "pane_pid",
    "@tclaude-id",
    "@tclaude-name",
    "@tclaude-port",
    "@tclaude-state",
    "@tclaude-state-since",
    "@tclaude-clis",
    "@tclaude-pid",
    "@tclaude-unseen",
    "@tclaude-cwd",
)
# What tmux says when there is no server to ask (or it is exiting right now).
# what tmux says while no server runs, or while it is exiting (its last pane just
# closed): measured, "no current target" comes in about 2 % of the list-panes -a
# calls that race a server's exit
SERVER_GONE = (
    "no server running",
    "error connecting",
    "No such file",
    "server exited",
    "no current target",
)
# Only the host sets @tclaude-port, and only on its own pane; @tclaude-id is also
# set on tabbed windows, which a shell split into that window would inherit. A view
# (views.py: a session grouped with the instances', marked @tclaude-view) lists the
# same panes again: they are read in the sessions that are no view.
INSTANCE_FILTER = "#{&&:#{@tclaude-port},#{==:#{@tclaude-view},}}"
PANE_FORMAT = SEP.join("#{" + field + "}" for field in PANE_FIELDS)


@dataclass(frozen=True, slots=True)
class Pane:
    """One instance pane as tmux reported it."""

    pane_id: str
    window_id: str
    session: str
    window_index: int
    pane_index: int
    active: bool
    window_active: bool
    session_attached: bool
    zoomed: bool
    dead: bool
    pane_pid: int
    instance_id: str
    name: str
    port: int | None
    state: str
    state_since: str
    clis: int
    host_pid: int | None
    unseen: bool
    cwd: str

    @property
    def target(self) -> str:
        return f"{self.session}:{self.window_index}.{self.pane_index}"


def _int_or_none(text: str) -> int | None:
    return int(text) if text.isdigit() else None


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # C0, C1, bidi


def _parse_pane(line: str) -> Pane | None:
    """One ``list-panes`` line, its ``@tclaude-*`` options checked.

    Anything in the pane (claude included) can set its options: an id must be
    an id (it becomes file names), a name a name, a state one of ours and the
    directory an absolute path without control characters; else they are
    dropped (name, cwd: the state file's are used) or ``unknown`` (state).
    """
    parts = line.split(SEP, len(PANE_FIELDS) - 1)
    if len(parts) != len(PANE_FIELDS) or not ID_PATTERN.fullmatch(parts[11]):
        return None
    name, state, cwd = parts[12], parts[14] or "starting", parts[19]
    return Pane(
        pane_id=parts[0],
        window_id=parts[1],
        session=_CONTROL.sub("?", parts[2]),
        window_index=int(parts[3]),
        pane_index=int(parts[4]),
        active=parts[5] == "1",
        window_active=parts[6] == "1",
        session_attached=parts[7] not in ("", "0"),
        zoomed=parts[8] == "1",
        dead=parts[9] == "1",
        pane_pid=int(parts[10] or 0),
        instance_id=parts[11],
        name=name if NAME_PATTERN.fullmatch(name) else "",
        port=_int_or_none(parts[13]),
        state=state if state in STATES else "unknown",
        state_since=parts[15],
        clis=_int_or_none(parts[16]) or 0,
        host_pid=_int_or_none(parts[17]),
        unseen=parts[18] == "1",
        cwd=cwd if cwd.startswith("/") and not _CONTROL.search(cwd) else "",
    )


class Tmux:
    """A tmux server: the caller's (inside tmux), a named socket, or the default."""

    def __init__(self, socket_name: str | None = None) -> None:
        self.socket_name = socket_name
        binary = which("tmux")
        if binary is None:
            raise NotFoundError(
                "tmux not found; install it (Debian/Ubuntu: apt install tmux, "
                "macOS: brew install tmux)"
            )
        self.binary = binary

    def argv(self, *args: str) -> list[str]:
        base = [self.binary]
        if self.socket_name:
            base += ["-L", self.socket_name]
        return [*base, *args]

    def _exec(
        self, args: Sequence[str], stdin: str | None = None, timeout: float | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The one path every synchronous tmux call takes; the argv is logged at DEBUG."""
        argv = self.argv(*args)
        _debug(argv)
        return subprocess.run(
            argv,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            env=self._env(),
            timeout=timeout,
        )

    def run(
        self,
        *args: str,
        check: bool = True,
        stdin: str | None = None,
        timeout: float | None = None,
    ) -> str:
        """Run one tmux command (or a ``;``-separated sequence); return stdout.

        A client that reached a server in the middle of exiting (just after
        kill-server, or its last pane closing) is retried once: the next
        attempt starts a fresh server.
        """
        for attempt in (1, 2):
            proc = self._exec(args, stdin, timeout)
            if attempt == 1 and "server exited unexpectedly" in proc.stderr:
                time.sleep(0.05)
                continue
            break
        if check and proc.returncode != 0:
            message = proc.stderr.strip() or f"tmux {args[0]} failed"
            raise TmuxError(f"tmux: {message}")
        return proc.stdout

    async def run_async(self, *args: str) -> str:
        """``run`` for an asyncio program (the host): stdout, or "" when tmux cannot start."""
        import asyncio

        argv = self.argv(*args)
        _debug(argv)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
                env=self._env(),
            )
        except OSError as exc:  # the host's pane options and notices said so before
            logging = sys.modules.get("logging")
            if logging is not None:
                logging.getLogger(__name__).warning("tmux not run: %s", exc)
            return ""
        out, _ = await proc.communicate()
        return out.decode(errors="replace")

    def _env(self) -> dict[str, str] | None:
        # With a named socket, $TMUX must not redirect us to the caller's server.
        if self.socket_name and "TMUX" in os.environ:
            env = dict(os.environ)
            del env["TMUX"]
            return env
        return None

    def sequence(
        self,
        commands: Iterable[Sequence[str]],
        check: bool = True,
        stdin: str | None = None,
        timeout: float | None = None,
    ) -> str:
        """Run several commands in one tmux process (one call, ``;`` between them)."""
        args = joined(commands)
        return self.run(*args, check=check, stdin=stdin, timeout=timeout) if args else ""

    def is_running(self) -> bool:
        return self._exec(["list-sessions", "-F", "#{session_name}"]).returncode == 0

    def instance_panes(self) -> list[Pane]:
        """Every instance pane on the server, in one call; [] when no server runs."""
        proc = self._exec(["list-panes", "-a", "-f", INSTANCE_FILTER, "-F", PANE_FORMAT])
        if proc.returncode != 0:
            err = proc.stderr
            if any(gone in err for gone in SERVER_GONE):
                return []
            raise TmuxError(f"tmux: {err.strip()}")
        panes = []
        for line in proc.stdout.splitlines():
            pane = _parse_pane(line)
            if pane is not None:
                panes.append(pane)
        return panes

    def display(self, fmt: str, target: str | None = None, check: bool = True) -> str:
        """``fmt`` expanded for ``target`` (default: the current pane); "" on failure
        without ``check``."""
        args = ["display-message", "-p"]
        if target:
            args += ["-t", target]
        return self.run(*args, fmt, check=check).rstrip("\n")

    def clients(self, fmt: str) -> list[str]:
        """``fmt`` for each attached client; [] when none (or no server)."""
        return self.run("list-clients", "-F", fmt, check=False).splitlines()

    def global_option(self, name: str) -> str:
        """A global (user) option's value, "" when unset."""
        return self.run("show-options", "-gqv", name, check=False).strip()

    def screen(self, pane_id: str) -> str:
        """The pane's screen as shown (wrapped lines not joined); "" when it is gone."""
        return self.run("capture-pane", "-p", "-t", pane_id, check=False)

    def has_session(self, name: str) -> bool:
        return self._exec(["has-session", "-t", f"={name}"]).returncode == 0

    def capture(self, pane_id: str, lines: int | None = None, escapes: bool = False) -> str:
        """The pane's screen as it is now (one ``capture-pane``), wrapped lines joined.

        ``lines`` reaches back into the scrollback that far, so a short screen
        still yields that many lines; ``escapes`` keeps colours and attributes.
        """
        args = ["capture-pane", "-p", "-J", "-t", pane_id]
        if lines is not None:
            args += ["-S", f"-{lines}"]
        if escapes:
            args.append("-e")
        return self.run(*args)


def joined(commands: Iterable[Sequence[str]]) -> list[str]:
    """Several tmux commands as the arguments of one tmux call, ``;`` between them."""
    args: list[str] = []
    for command in commands:
        if args:
            args.append(";")
        args.extend(command)
    return args


def _debug(argv: list[str]) -> None:
    """Log a tmux argv at DEBUG where logging is in use (the host; ``TCLAUDE_DEBUG=1``).

    The CLI does not import logging otherwise: its start-up time is measured.
    """
    logging = sys.modules.get("logging")
    if logging is not None:
        import shlex

        logging.getLogger(__name__).debug("%s", shlex.join(argv))


def pane_option_commands(target: str, options: dict[str, str]) -> list[list[str]]:
    """``set-option -p`` commands for options of one pane."""
    return [["set-option", "-p", "-t", target, key, value] for key, value in options.items()]


def literal(value: str) -> str:
    """``value`` for an argument tmux expands as a format (``-c``, ``new-session -s``):
    ``#`` doubled, so that ``#(command)`` in a directory name is text, not a command."""
    return value.replace("#", "##")


def inside_tmux() -> bool:
    return bool(os.environ.get("TMUX"))
