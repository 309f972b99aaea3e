"""A verb run on a remote: ``--on NAME`` or a ``NAME:instance`` target.

The arguments were parsed (and so checked) here; what runs is the remote's
own ``tclaude VERB ARGS``, over the remote's shared connection, with
``NAME:`` taken off the target. Arguments go as the user typed them and mean
what they mean on the remote: a relative ``--cwd`` is relative to the remote's
home, ``send --file PATH`` names a remote file (no local file is read or
sent). With ``--json`` the remote's JSON is parsed strictly and printed again;
otherwise its text is relayed with control characters taken out.
"""

from __future__ import annotations

import argparse
import math
import sys

from ..errors import TclaudeError
from ..names import printable
from ..remote.names import split_target

QUICK = frozenset(("list", "status", "peek", "log"))  # answer within remote_timeout
# options naming a local tmux pane, window or client, which a remote would take as its own
# (switch/attach --client is local there too: the window opens here)
LOCAL_PANE_OPTIONS = {"beside": "--beside"}
SLOW_EXTRA = 120.0  # new, restore, kill, send, worktree: a host starts or stops there
WAIT_MARGIN = 5.0  # seconds a remote wait may take past its --timeout and the remote timeout


def remote_and_argv(
    parser: argparse.ArgumentParser, namespace: argparse.Namespace, argv: list[str], on: str | None
) -> tuple[str, list[str]]:
    """The remote's name and the argv for its tclaude (REMOTE: prefixes taken off); an option
    that names a local tmux pane (``LOCAL_PANE_OPTIONS``) is refused."""
    for dest, option in LOCAL_PANE_OPTIONS.items():
        if getattr(namespace, dest, None) is not None:
            raise TclaudeError(
                f"{option} names a tmux pane here: not with --on or a REMOTE:NAME target"
            )
    values: list[str] = []
    target = getattr(namespace, "target", None)
    if isinstance(target, str):
        values.append(target)
    for key in ("targets", "names"):
        values += [v for v in getattr(namespace, key, None) or [] if isinstance(v, str)]
    remotes = {on} if on is not None else set()
    local_targets = False
    replaced: dict[str, str] = {}
    for value in values:
        remote, instance = split_target(value)
        if remote is None:
            local_targets = True
            continue
        remotes.add(remote)
        replaced[value] = instance
    if len(remotes) > 1:
        names = ", ".join(sorted(r for r in remotes if r))
        raise TclaudeError(f"targets on several machines ({names}): one command per machine")
    if local_targets and replaced and on is None:
        raise TclaudeError("local and remote targets in one command: one command per machine")
    (remote,) = remotes
    if not remote:
        raise TclaudeError("--on needs a remote's name (tclaude remote list)")
    out: list[str] = []
    takes_value = {
        option
        for action in parser._actions
        if action.nargs != 0
        for option in action.option_strings
    }
    previous = ""
    after_dashes = False
    for arg in argv:
        if arg == "--":
            after_dashes = True
        if not after_dashes and arg in replaced and previous not in takes_value:
            out.append(replaced[arg])
        else:
            out.append(arg)
        previous = arg
    return remote, out


def run_on(
    parser: argparse.ArgumentParser, namespace: argparse.Namespace, argv: list[str], on: str | None
) -> int:
    from ..app import App

    name, remote_args = remote_and_argv(parser, namespace, argv, on)
    verb = namespace.command
    app = App.load()
    from ..remote.ssh import Remote

    remote = Remote.named(app.config, name)
    if verb in ("switch", "attach"):
        from ..remote.attach import attach_remote

        target = remote_args[0] if remote_args and not remote_args[0].startswith("-") else None
        client = getattr(namespace, "client", None)  # switch --client: the menu's items
        return attach_remote(app, remote, target, verb, client=client)
    if verb == "list":  # the remote's own rows only (never its remotes'), shown as here
        from . import list_cmd

        namespace.only_remote = remote.name
        return list_cmd.run(namespace)
    as_json = getattr(namespace, "json", False) is True
    wait_timeout = getattr(namespace, "timeout", None) if verb == "wait" else None
    return relay(remote, verb, remote_args, as_json, wait_timeout)


def relay(
    remote: object, verb: str, args: list[str], as_json: bool, wait_timeout: float | None = None
) -> int:
    """Run ``tclaude VERB ARGS`` on ``remote`` and print what it says, made safe.

    ``wait_timeout``: a wait's ``--timeout``, which the remote keeps; the call here
    ends that much later, plus the remote timeout and ``WAIT_MARGIN`` (a remote wait
    that hangs ends here too). Without one it may wait for ever, as a local wait does.
    """
    from ..remote import replies
    from ..remote.ssh import Remote, call

    assert isinstance(remote, Remote)
    if verb in QUICK:
        timeout = remote.timeout
    elif verb == "wait":
        timeout = math.inf
        if wait_timeout is not None and math.isfinite(wait_timeout):
            timeout = max(0.0, wait_timeout) + remote.timeout + WAIT_MARGIN
    else:
        timeout = remote.timeout + SLOW_EXTRA
    reply = call(remote, [verb, *args], timeout=timeout)
    # wait --json answers an object for a timeout (1) and a stop (3) too
    answered = reply.code == 0 or (verb == "wait" and reply.code in (1, 3) and bool(reply.stdout))
    if as_json and answered:
        value = replies.parse_json(remote.name, reply.stdout)
        if verb == "list":
            value = replies.instance_rows(remote.name, value)
        elif verb == "wait":
            value = replies.wait_result(remote.name, value)
        import json

        sys.stdout.write(json.dumps(value, indent=2) + "\n")  # ensure_ascii: no C1 controls
    else:
        for line in reply.stdout.splitlines():
            print(_safe_line(line))
    for line in reply.stderr.splitlines():
        if line.strip():
            text = printable(line, 1000)
            if text.startswith("tclaude: "):
                text = text[len("tclaude: ") :]
            text = replies.hints_here(remote.name, text)
            print(f"tclaude: {remote.name}: {text}", file=sys.stderr)
    return reply.code if 0 <= reply.code < 126 else 1


def _safe_line(line: str) -> str:
    """A remote's output line with control characters (escape sequences) taken out."""
    return "".join(c for c in line.expandtabs() if c.isprintable())
