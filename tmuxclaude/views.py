"""Views: one tmux session per ``tclaude attach``, so that each terminal shows its own instance.

Clients of one session share its current window: two terminals attached to the
instances' session (or two local windows attached to one remote's) would all show
the instance the last of them chose. ``tclaude attach`` outside tmux therefore
makes a *view*, a session grouped with the instances' (``new-session -t``: the
same windows, its own current window), marked with the session option ``VIEW``
(the window id of the instance it was opened for), destroyed when its client goes
(``destroy-unattached``), and ended when that instance's window goes (its
``window-unlinked`` hook), so that a view never quietly shows another instance.

Grouped sessions list every pane once per session: the registry reads the panes of
sessions that are no view (``tmux.INSTANCE_FILTER``), and a focus done for a client
in a view selects the window in that view, never through a pane id (which tmux
resolves to whichever session of the group was active last: another terminal's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import TmuxError
from .tmux import SEP, joined

if TYPE_CHECKING:
    from .tmux import Tmux

VIEW = "@tclaude-view"


# A view whose instance's window goes ends: its client exits (remotely: ssh, and with it
# the local window attached to that instance). A global hook, in a slot of its own: tmux
# runs a window-unlinked hook in whichever session it finds best, not the one the window
# left, so each view's own hook would be another's; this one looks at every view.
END_HOOK = "window-unlinked[7707]"
END_WITH_INSTANCE = (
    f'run-shell -C "#{{S:#{{?#{{==:#{{{VIEW}}},#{{hook_window}}}},'
    'kill-session -t #{session_id} ; ,}}"'
)


def client_session(tmux: Tmux, client_name: str | None) -> str | None:
    """The session id of client ``client_name``, else of the current client; None when
    there is no such client (one tmux call)."""
    out = tmux.sequence(
        [
            ["list-clients", "-F", "client\t#{client_name}\t#{session_id}"],
            ["display-message", "-p", "current\t#{client_name}"],
        ],
        check=False,
    )
    rows = [line.split(SEP) for line in out.splitlines()]
    wanted = client_name or next((r[1] for r in rows if r[0] == "current" and len(r) == 2), "")
    return next((r[2] for r in rows if r[0] == "client" and len(r) == 3 and r[1] == wanted), None)


def attach_argv(tmux: Tmux, session: str, pane_id: str) -> list[str]:
    """The argv (to exec) that attaches this terminal to a new view of ``session`` showing
    ``pane_id``; the instance is marked seen, and becomes the session's own current one
    (where ``tclaude attach`` without a name comes back to). The view is destroyed with
    its client only once attached (tmux destroys an unattached one at once)."""
    from .spawn import seen_commands

    made = tmux.sequence(
        [
            ["display-message", "-p", "-t", pane_id, "#{window_id}"],
            ["new-session", "-d", "-t", f"={session}", "-P", "-F", "#{session_id}"],
        ]
    ).split()
    if len(made) != 2 or not made[0].startswith("@") or not made[1].startswith("$"):
        raise TmuxError(f"tmux: no view of session {session!r} made")
    window, view = made
    tmux.sequence(
        [
            ["set-option", "-t", view, VIEW, window],
            ["set-hook", "-g", END_HOOK, END_WITH_INSTANCE],
            ["select-window", "-t", f"{view}:{window}"],
            ["select-window", "-t", f"={session}:{window}"],
            ["select-pane", "-t", pane_id],
            *seen_commands(pane_id),
        ]
    )
    return tmux.argv(
        *joined(
            [["attach-session", "-t", view], ["set-option", "-t", view, "destroy-unattached", "on"]]
        )
    )


def focus_commands(
    tmux: Tmux, pane_id: str, client: bool, client_name: str | None = None
) -> list[list[str]]:
    """``spawn.focus_commands``, but for a client (``client_name``, else the current one
    when ``client``) whose session has the pane's window, the window is selected in that
    session: the client stays where it is, and other sessions of its group (other
    terminals' views) keep what they show. One tmux call to find out."""
    from .spawn import focus_commands as by_pane
    from .spawn import seen_commands

    if not (client or client_name):
        return by_pane(pane_id, client, client_name)
    fmt = SEP.join(["#{client_name}", "#{session_id}", f"#{{{VIEW}}}"])
    out = tmux.sequence(
        [
            ["display-message", "-p", "-t", pane_id, "pane\t#{window_id}"],
            ["list-windows", "-a", "-F", "window\t#{session_id}\t#{window_id}"],
            ["list-clients", "-F", "client\t" + fmt],
            ["display-message", "-p", "current\t#{client_name}"],
        ],
        check=False,
    )
    rows = [line.split(SEP) for line in out.splitlines()]
    window = next((r[1] for r in rows if r[0] == "pane" and len(r) == 2), "")
    wanted = client_name or next((r[1] for r in rows if r[0] == "current" and len(r) == 2), "")
    place = next((r[1:] for r in rows if r[0] == "client" and len(r) == 4 and r[1] == wanted), [])
    if not (window.startswith("@") and wanted and place):
        return by_pane(pane_id, client, client_name)
    session, view = place[1], place[2]
    if ["window", session, window] not in rows:
        return by_pane(pane_id, client, client_name)
    commands = [
        ["select-window", "-t", f"{session}:{window}"],
        ["select-pane", "-t", pane_id],
        *seen_commands(pane_id),
        # into its own session again: no move, but that session becomes the one active
        # last, which tmux takes for a command given no target (as before views)
        ["switch-client", "-c", wanted, "-t", f"{session}:{window}"],
    ]
    if view:  # the view now ends with this instance
        commands.append(["set-option", "-t", session, VIEW, window])
    return commands
