"""Telling the user that an instance needs them or is done.

Once per transition into ``waiting``, ``limited``, ``idle`` (turn done) or ``error``,
and only when the user is not already looking at the instance's pane
(errors always). Ways, from the ``notify`` setting: ``message`` (tmux
display-message on every client), ``bell`` and ``osc777`` (written to each
client's terminal, so they reach the outer terminal), ``notify-send``.

Messages coalesce: hosts are separate processes, so the names live in global
tmux options (``@tclaude-notice-<state>``); each host appends its name and
shows a message built from all of them, in one tmux call. Names older than
``WINDOW`` seconds (no notice since) are dropped first. A broadcast to ten
instances thus ends in one message naming the ten, not ten that overwrite
each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
import time

from ..tmux import Tmux, joined

logger = logging.getLogger(__name__)

MESSAGES = {
    "waiting": "needs you",
    "limited": "hit a rate or usage limit",
    "idle": "is done",
    "error": "failed",
    "stale": "lost its directory",
}
SEP = "\t"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+-]{0,47}")  # spawn.NAME_PATTERN
NOTICE = "@tclaude-notice-"
WINDOW = 5  # seconds: what a message shows (-d 5000); names within it are shown together
# state -> (one name, several names), in the order the message lists them
PHRASES = {
    "waiting": ("needs you", "need you"),
    "limited": ("hit a rate or usage limit", "hit a rate or usage limit"),
    "error": ("failed", "failed"),
    "stale": ("lost its directory", "lost their directories"),
    "idle": ("is done", "are done"),
}


class Attention:
    def __init__(self, pane: str | None, name: str, methods: list[str]) -> None:
        self.pane = pane
        self.name = name
        self.methods = methods
        self._tmux: Tmux | None = None

    async def notify(self, state: str) -> None:
        """Notify about a transition into ``state`` (never raises)."""
        if state not in MESSAGES or not self.methods:
            return
        try:
            await self._notify(state)
        except Exception:  # a notification must never take the host down
            logger.warning("notification failed", exc_info=True)

    async def _notify(self, state: str) -> None:
        clients: list[tuple[str, str]] = []
        if self.pane is not None:
            if self._tmux is None:
                self._tmux = Tmux(None)
            fmt = SEP.join(["#{client_name}", "#{client_tty}", "#{pane_id}"])
            # and the pane's name, in the same call: `tclaude rename` changes it
            out = await self._tmux.run_async(
                *joined(
                    [
                        ["list-clients", "-F", fmt],
                        ["display-message", "-p", "-t", self.pane, "#{@tclaude-name}"],
                    ]
                ),
            )
            lines = out.splitlines()
            if lines and NAME.fullmatch(lines[-1]):
                self.name = lines[-1]
            rows = [line.split(SEP) for line in lines if line.count(SEP) == 2]
            if state != "error" and any(pane == self.pane for _, _, pane in rows):
                return  # someone is looking at it
            clients = [(name, tty) for name, tty, _ in rows]
        await deliver(self._tmux, self.methods, self.name, state, clients)


async def announce(tmux: Tmux, methods: list[str], name: str, state: str) -> None:
    """Notify every client of ``tmux`` about a transition of an instance that has no
    local pane (a remote's: ``name`` is ``REMOTE:NAME``), as a local one is notified.

    Never raises. Nobody "looks at" such an instance here, so every client is told.
    """
    if state not in MESSAGES or not methods:
        return
    try:
        out = await tmux.run_async(
            "list-clients", "-F", SEP.join(["#{client_name}", "#{client_tty}"])
        )
        clients = [
            (row[0], row[1])
            for row in (line.split(SEP) for line in out.splitlines())
            if len(row) == 2
        ]
        await deliver(tmux, methods, name, state, clients)
    except Exception:  # a notification must never take its caller down
        logger.warning("notification failed", exc_info=True)


async def deliver(
    tmux: Tmux | None, methods: list[str], name: str, state: str, clients: list[tuple[str, str]]
) -> None:
    """Tell ``clients`` (tmux client name, tty) that ``name`` went into ``state``, each way
    of ``methods``; ``notify-send`` goes to the desktop whatever the clients."""
    text = f"tclaude: {name} {MESSAGES[state]}"
    if "message" in methods and clients and tmux is not None:
        names = [client for client, _ in clients]
        await tmux.run_async(*joined(message_commands(name, state, names)))
    for _, tty in clients:
        if "bell" in methods:
            _write_tty(tty, b"\a")
        if "osc777" in methods:
            _write_tty(tty, f"\x1b]777;notify;tclaude;{text}\x07".encode())
    if "notify-send" in methods and shutil.which("notify-send"):
        proc = await asyncio.create_subprocess_exec("notify-send", "tclaude", text)
        await proc.wait()


NOTED_MAX = 200  # characters of names one notice state holds at most


def message_commands(
    name: str, state: str, clients: list[str], now: float | None = None
) -> list[list[str]]:
    """One tmux call: forget notices older than ``WINDOW``, add ``name`` under
    ``state``, and show every client the message made of all names noted."""
    now = time.time() if now is None else now
    stale = f"#{{e|<:#{{{NOTICE}at}},{int(now) - WINDOW}}}"
    commands = [["if-shell", "-F", stale, f"set-option -gu {NOTICE}{kind}"] for kind in PHRASES]
    noted = f"#{{{NOTICE}{state}}}"
    # added once: a name noted already (told again within WINDOW) is not appended again
    there = f"#{{||:#{{m:* {name},{noted}}},#{{m:* {name} *,{noted}}}}}"
    commands += [
        # names are [A-Za-z0-9_+-], a remote's REMOTE:NAME: nothing to quote or match
        # and not past NOTED_MAX characters: a flood of names makes no endless message
        [
            "if-shell",
            "-F",
            f"#{{?{there},,#{{e|<:#{{n:{noted}}},{NOTED_MAX}}}}}",
            f"set-option -ga {NOTICE}{state} ' {name}'",
        ],
        ["set-option", "-g", NOTICE + "at", str(int(now))],
    ]
    text = "tclaude:" + "".join(_piece(kind, list(PHRASES)[:i]) for i, kind in enumerate(PHRASES))
    commands += [
        ["display-message", "-c", client, "-d", str(WINDOW * 1000), text] for client in clients
    ]
    return commands


def _piece(kind: str, before: list[str]) -> str:
    """`` a b are done`` for the names noted under ``kind``, after ``;`` when
    a piece before it has names; empty without names."""
    names = "#{" + NOTICE + kind + "}"
    one, several = PHRASES[kind]
    verb = f"#{{?#{{m:* * *,{names}}},{several},{one}}}"
    separator = ""
    if before:
        any_before = "#{" + NOTICE + before[-1] + "}"
        for kind_before in reversed(before[:-1]):
            any_before = f"#{{||:#{{{NOTICE}{kind_before}}},{any_before}}}"
        separator = f"#{{?{any_before},;,}}"
    return f"#{{?{names},{separator}{names} {verb},}}"


def _write_tty(tty: str, data: bytes) -> None:
    with contextlib.suppress(OSError), open(tty, "wb", buffering=0) as handle:
        handle.write(data)
