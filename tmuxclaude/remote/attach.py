"""Switch to or attach a remote instance: a local tmux window running ``ssh -t``.

Inside tmux, ``tclaude switch NAME:inst`` opens a window named ``NAME:inst``
(marked with the window option ``@tclaude-remote``) that runs ``ssh -t ...
tclaude attach inst`` over the remote's shared connection, or focuses the one
already open. Outside tmux, ``tclaude attach NAME:inst`` runs that ssh in the
terminal itself. The picker and the menu's items switch through here too.
"""

from __future__ import annotations

import os

from ..app import App
from ..errors import TclaudeError
from ..tmux import inside_tmux, literal
from .names import PANE_ID, check_instance
from .ssh import Remote, call, last_line, remote_argv

MARK = "@tclaude-remote"


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
    """Open (or focus) the window attached to ``target`` on ``remote``, or exec ssh outside
    tmux. ``client`` (a ``#{client_name}``) is moved there, else the current client; a new
    window goes after ``origin``'s (a pane id), else ``$TMUX_PANE``'s, else the client's."""
    from ..spawn import focus_commands

    if verb == "switch" and target is None:
        raise TclaudeError("switch to a remote instance needs its name: tclaude switch REMOTE:NAME")
    if target is not None:  # also when it came with --on, not as REMOTE:NAME
        check_instance(target)
    argv = remote_argv(remote, ["attach", *([target] if target else [])], tty=True)
    label = f"{remote.name}:{target}" if target else remote.name
    if not inside_tmux() and client is None:
        if verb == "switch":
            raise TclaudeError(f"not inside tmux: use tclaude attach {label}")
        if target is not None:
            _check_there(remote, target)
        os.execvp(argv[0], argv)
    pane = find_window(app, label)
    if pane is None:
        if target is not None:
            _check_there(remote, target)
        window = _window_of(app, origin or os.environ.get("TMUX_PANE"), client)
        where = ["-a", "-t", window] if window else []  # after the caller's window
        made = app.tmux.run(
            "new-window", "-d", *where, "-P", "-F", "#{pane_id} #{window_id}", "-n", literal(label),
            "--", *argv,
        ).split()  # fmt: skip
        pane = made[0]
        app.tmux.run("set-option", "-w", "-t", made[1], MARK, label)
    app.tmux.sequence(focus_commands(pane, client=True, client_name=client))
    return 0


def _window_of(app: App, pane: str | None, client: str | None) -> str | None:
    """The window id of ``pane``, else of the pane ``client`` shows; None if neither is."""
    if pane and PANE_ID.fullmatch(pane):
        window = app.tmux.display("#{window_id}", pane, check=False).strip()
        if window.startswith("@"):
            return window
    if client:
        for line in app.tmux.clients("#{client_name}\t#{window_id}"):
            name, _, window = line.partition("\t")
            if name == client and window.startswith("@"):
                return window
    return None


def _check_there(remote: Remote, target: str) -> None:
    """One quick call first (status, over the shared connection): a remote that does not
    answer, or has no such instance, is a one-line error here, not a window that dies."""
    reply = call(remote, ["status", target, "--json"])
    if reply.code != 0:
        raise TclaudeError(f"{remote.name}: {last_line(reply.stderr).removeprefix('tclaude: ')}")
