"""Switch to or attach a remote instance: a local tmux window running ``ssh -t``.

Inside tmux, ``tclaude switch NAME:inst`` opens a window named ``NAME:inst``
(marked with the window option ``@tclaude-remote``) that runs ``ssh -t ...
tclaude attach inst`` over the remote's shared connection, or focuses the one
already open; ``inst`` there is the instance's name as the remote gives it, so
its id or pane id finds the same window. Outside tmux, ``tclaude attach
NAME:inst`` runs that ssh in the terminal itself, and puts the terminal right
if the connection drops. The picker and the menu's items switch through here too.
"""

from __future__ import annotations

import os
from typing import Any

from ..app import App
from ..errors import TclaudeError
from ..state_file import NAME_PATTERN
from ..tmux import inside_tmux, literal
from . import replies
from .names import PANE_ID, check_instance
from .ssh import SSH_FAILED, Remote, RemoteError, call, last_line, remote_argv

MARK = "@tclaude-remote"
# what a tmux client sets on its terminal and undoes when it ends: the scroll region,
# the alternate screen, keypad and cursor modes, mouse, focus and bracketed-paste
# reporting. The scroll region first: resetting it moves the cursor home, and leaving
# the alternate screen then puts it back below the command line, where the next line goes
TERMINAL_RESET = (
    "\x1b[r\x1b[?1049l\x1b[?1l\x1b>\x1b[?12l\x1b[?25h\x1b[0m"
    "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l\x1b[?1004l\x1b[?2004l"
)


def find_window(app: App, label: str) -> str | None:
    """The pane id of the open window for ``label`` (``NAME:inst``), if one is open."""
    listing = app.tmux.run("list-windows", "-a", "-F", f"#{{pane_id}}\t#{{{MARK}}}", check=False)
    for line in listing.splitlines():
        pane, _, mark = line.partition("\t")
        if mark == label:
            return pane
    return None


def attach_remote(
    app: App,
    remote: Remote,
    target: str | None,
    verb: str,
    *,
    client: str | None = None,
    origin: str | None = None,
) -> int:
    """Open (or focus) the window attached to ``target`` on ``remote``, or run ssh here outside
    tmux. ``client`` (a ``#{client_name}``) is moved there, else the current client; a new
    window goes after ``origin``'s (a pane id), else after the window ``client`` shows, else
    after ``$TMUX_PANE``'s: an explicit client wins over the pane the command runs in."""
    from ..views import client_session, focus_commands

    if verb == "switch" and target is None:
        raise TclaudeError("switch to a remote instance needs its name: tclaude switch REMOTE:NAME")
    if target is not None:  # also when it came with --on, not as REMOTE:NAME
        check_instance(target)
    argv = remote_argv(remote, ["attach", *([target] if target else [])], tty=True)
    label = f"{remote.name}:{target}" if target else remote.name
    if not inside_tmux() and client is None:
        if verb == "switch":
            raise TclaudeError(f"not inside tmux: use tclaude attach {label}")
        _check_there(remote, target)
        return _in_terminal(remote, argv)
    pane = find_window(app, label)
    if pane is None:
        # one window per instance, however it was named (name, id, pane id)
        name = _check_there(remote, target)
        if name is not None and name != target:
            label = f"{remote.name}:{name}"
            pane = find_window(app, label)
    if pane is not None:
        _link_here(app, pane, client_session(app.tmux, client))
    else:
        window = _window_of(app, origin, client, os.environ.get("TMUX_PANE"))
        where = ["-a", "-t", window] if window else []  # after the caller's window
        made = app.tmux.run(
            "new-window", "-d", *where, "-P", "-F", "#{pane_id} #{window_id}", "-n", literal(label),
            "--", *argv,
        ).split()  # fmt: skip
        pane = made[0]
        app.tmux.run("set-option", "-w", "-t", made[1], MARK, label)
    app.tmux.sequence(focus_commands(app.tmux, pane, client=True, client_name=client))
    return 0


def _link_here(app: App, pane: str, session: str | None) -> None:
    """Link the window of ``pane`` into ``session`` (a client's) when it is not in it yet:
    the client then shows it in its own session, instead of being moved into another
    session and sharing that session's current window with its clients."""
    if session is None:
        return
    window = app.tmux.display("#{window_id}", pane, check=False).strip()
    listed = app.tmux.run("list-windows", "-t", session, "-F", "#{window_id}", check=False)
    if window.startswith("@") and window not in listed.split():
        app.tmux.run("link-window", "-d", "-s", window, "-t", f"{session}:", check=False)


def switch_to_known(app: App, state: str, client: str | None = None) -> bool:
    """Switch to a remote instance in ``state`` (``waiting``, or ``done``: idle, not seen
    yet) as known here, asking nobody (``listing.known``; stale rows skipped): the first
    after the one whose window is shown, in list order, cycling. False: none is."""
    from .listing import known

    rows = [
        row
        for listing in known(app.config)
        for row in listing.rows
        if not row["stale"] and _in_state(row, state)
    ]
    if not rows:
        return False
    labels = [f"{row['remote']}:{row['name']}" for row in rows]
    shown = _shown_label(app, client)
    row = rows[(labels.index(shown) + 1) % len(rows) if shown in labels else 0]
    remote = Remote.named(app.config, row["remote"])
    attach_remote(app, remote, row["name"], "switch", client=client)
    return True


def _in_state(row: dict[str, Any], state: str) -> bool:
    if state == "done":  # as the status line counts it
        return row["state"] == "idle" and row["unseen"] is True
    return bool(row["state"] == state)


def _shown_label(app: App, client: str | None) -> str | None:
    """The remote instance (``NAME:inst``) whose window ``client`` (else this pane's
    client) shows, if one does."""
    if client:
        for line in app.tmux.clients(f"#{{client_name}}\t#{{{MARK}}}"):
            name, _, label = line.partition("\t")
            if name == client:
                return label or None
        return None
    if inside_tmux():
        return app.tmux.display(f"#{{{MARK}}}", check=False).strip() or None
    return None


def _window_of(app: App, origin: str | None, client: str | None, here: str | None) -> str | None:
    """The window id of pane ``origin``, else of the window ``client`` shows, else of pane
    ``here`` (``$TMUX_PANE``); None if none is."""
    if origin and (window := _pane_window(app, origin)):
        return window
    if client:
        for line in app.tmux.clients("#{client_name}\t#{window_id}"):
            name, _, window = line.partition("\t")
            if name == client and window.startswith("@"):
                return window
    return _pane_window(app, here) if here else None


def _pane_window(app: App, pane: str) -> str | None:
    if not PANE_ID.fullmatch(pane):
        return None
    window = app.tmux.display("#{window_id}", pane, check=False).strip()
    return window if window.startswith("@") else None


def _in_terminal(remote: Remote, argv: list[str]) -> int:
    """Run the attaching ``ssh -t`` in this terminal; its exit code.

    When the connection drops, the remote tmux client cannot undo what it set
    on the terminal (the alternate screen, keypad mode, mouse and focus
    reporting, which then type escape sequences at the prompt), and answers to
    its terminal queries may still be pending: ssh failing (255) resets the
    terminal here, drops that pending input, and says so in one line.
    """
    import subprocess
    import sys

    code = subprocess.call(argv)
    if code != SSH_FAILED:
        return code
    if sys.stdout.isatty():
        sys.stdout.write(TERMINAL_RESET)
        sys.stdout.flush()
    if sys.stdin.isatty():
        import termios

        termios.tcflush(sys.stdin.fileno(), termios.TCIFLUSH)
    raise RemoteError(f"remote {remote.name}: the connection was lost", "unreachable")


def _check_there(remote: Remote, target: str | None) -> str | None:
    """One quick call first, over the shared connection: a remote that does not answer, or
    has no such running instance (no running one at all, without a target), is a one-line
    error here, not a window that dies or the remote's words in the terminal. The target's
    name as the remote gives it (None without a target, or a name that is no name)."""
    if target is not None:
        reply = call(remote, ["status", target, "--json"])
        if reply.code != 0:
            why = last_line(reply.stderr).removeprefix("tclaude: ")
            raise TclaudeError(f"{remote.name}: {replies.hints_here(remote.name, why)}")
        try:
            status = replies.parse_json(remote.name, reply.stdout)
        except TclaudeError:
            return None  # the window is named as the user named the instance
        name = status.get("name") if isinstance(status, dict) else None
        return name if isinstance(name, str) and NAME_PATTERN.fullmatch(name) else None
    reply = call(remote, ["list", "--json", "--remote-envelope"])  # its own, not its remotes'
    if reply.code != 0:
        raise TclaudeError(f"{remote.name}: {last_line(reply.stderr).removeprefix('tclaude: ')}")
    envelope = replies.parse_json(remote.name, reply.stdout)
    rows = replies.instance_rows(
        remote.name, envelope.get("instances") if isinstance(envelope, dict) else None
    )
    if not any(row["running"] for row in rows):
        raise TclaudeError(
            f"{remote.name}: no running instances; start one with tclaude new --on {remote.name},"
            f" or tclaude restore --on {remote.name}"
        )
    return None
