"""Start a Claude Code instance in a tmux window (or pane) with its own IDE server.

Waits until the instance's host is ready, then prints it. Inside tmux the new
instance gets focus unless --detached.

examples:
  tclaude new                          name from the directory: api, api-2, ...
  tclaude new --name docs --cwd ~/src/docs
  tclaude new --layout split           a pane in the shared instances window
  tclaude new --beside $TMUX_PANE      next to your editor's pane
  tclaude new --json -- --model sonnet arguments after -- go to claude
  tclaude new --worktree feat/login    a git worktree (new branch from HEAD) and
                                       an instance in it named feat-login
  tclaude new --worktree fix --base origin/main --path /tmp/fix
  tclaude new --reuse --beside $TMUX_PANE   the directory's instance, made if missing
                                            (what Neovim's :TClaude runs)
  tclaude new --resume 0f3c…-…       go on with a conversation (see tclaude history),
                                       in the directory it was held in
"""

from __future__ import annotations

import argparse
import os
import sys

from ..app import App
from ..errors import TclaudeError
from ..session_ids import chooses_session, is_session_id, projects_dir
from ..spawn import SpawnRequest
from .flags import add_json_flag


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--name", help="instance name (default: the directory's name)")
    parser.add_argument("--cwd", default=None, help="working directory (default: .)")
    parser.add_argument("--layout", choices=["tabbed", "split"], default=None)
    parser.add_argument("--beside", metavar="PANE", help="split this tmux pane (e.g. an editor's)")
    parser.add_argument("--detached", action="store_true", help="do not focus the new instance")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="if an instance runs for this directory, focus it instead (as bare tclaude does)",
    )
    parser.add_argument(
        "--resume",
        metavar="SESSION_ID",
        help="go on with this Claude conversation, in its directory unless --cwd is given",
    )
    group = parser.add_argument_group("git worktree")
    group.add_argument(
        "--worktree",
        metavar="BRANCH",
        help="run in a git worktree of BRANCH (created, with a new branch when needed)",
    )
    group.add_argument("--base", metavar="REF", help="start a new branch from REF (default HEAD)")
    group.add_argument("--path", metavar="DIR", help="the worktree's directory (default: config)")
    add_json_flag(parser)
    parser.add_argument("claude_args", nargs=argparse.REMAINDER, help="-- then claude's arguments")


def run(args: argparse.Namespace) -> int:
    from ..spawn import Spawner

    app = App.load({"layout": args.layout})
    claude_args = list(args.claude_args)
    if claude_args and claude_args[0] == "--":
        claude_args = claude_args[1:]
    if (args.base or args.path) and not args.worktree:
        raise TclaudeError("--base and --path go with --worktree BRANCH")
    if args.resume is not None:
        args.cwd = _resume_cwd(args.resume, args.cwd)
        for other in app.registry.instances():
            saved = other.saved.session_id if other.saved else None
            if other.running and saved and saved.lower() == args.resume.lower():
                raise TclaudeError(
                    f"instance {other.name!r} holds conversation {args.resume} already; "
                    f"focus it with `tclaude switch {other.name}`"
                )
        if chooses_session(claude_args):
            raise TclaudeError("--resume picks the session: give no session flag to claude too")
    request = SpawnRequest(
        cwd=args.cwd or os.getcwd(),
        name=args.name,
        layout=app.config.layout,
        beside=args.beside,
        detached=args.detached,
        claude_args=claude_args,
    )
    _warn_if_unsupported(app.config.claude_command)
    if args.resume is not None:
        request.session_id = args.resume
        request.extra_args = [f"--resume={args.resume}"]
    if args.reuse:
        if args.worktree:
            raise TclaudeError(
                "--reuse finds the directory's instance; it does not go with --worktree"
            )
        return _reuse(app, args, request)
    made: dict[str, object] | None = None
    if args.worktree:
        from ..worktree_instances import make_for

        def say(line: str) -> None:  # flushed: a setup command's output follows
            print(line, flush=True)

        made = make_for(
            app, request, args.worktree, args.base, args.path, None if args.json else say
        )
    # the create lock, as restore's: a restore planning meanwhile would take the entry,
    # written before its pane is there, for a stopped instance and start it a second time
    with app.state.creating():
        entry, ready = Spawner(app.config, app.tmux, app.state).spawn(request)
    print_instance(app, entry.id, ready, args.json, made)
    return 0


def _warn_if_unsupported(claude_command: str) -> None:
    """One line on stderr when the claude to launch is outside the supported range."""
    from .. import claude_version

    _, version = claude_version.of_command(claude_command)
    problem = claude_version.support_problem(version) if version else None
    if problem:
        print(f"tclaude: warning: {problem}", file=sys.stderr)


def _reuse(app: App, args: argparse.Namespace, request: SpawnRequest) -> int:
    """Find the running instance for the directory or create it, under bare tclaude's
    create lock: racing callers (Neovim, tclaude) end up with one instance."""
    from ..focus import current
    from ..spawn import Spawner
    from .switch import focused

    cwd = os.path.realpath(os.path.expanduser(request.cwd))
    if not os.path.isdir(cwd):
        raise TclaudeError(f"no such directory: {request.cwd}")
    with app.state.creating():
        instances = app.registry.instances()
        found = app.registry.for_directory(cwd, instances)
        if found is None:
            entry, ready = Spawner(app.config, app.tmux, app.state).spawn(request)
            print_instance(app, entry.id, ready, args.json, reused=False)
            return 0
    if not args.detached:
        focused(app, found, current(app, [i for i in instances if i.running]))
    print_instance(app, found.id, {}, args.json, reused=True)
    return 0


def _resume_cwd(session_id: str, cwd: str | None) -> str:
    """Check the session id to resume and find the directory its conversation was held in."""
    from .. import transcript

    if not is_session_id(session_id):
        raise TclaudeError(
            f"bad session id {session_id[:60]!r}: a Claude session id is a UUID "
            "(find one with `tclaude history`)"
        )
    path = transcript.find(session_id)
    if path is None:
        raise TclaudeError(
            f"no conversation {session_id} in {projects_dir()}; find one with `tclaude history`"
        )
    if cwd is not None:
        return cwd
    recorded = transcript.recorded_cwd(path)
    if recorded is None or not os.path.isdir(recorded):
        raise TclaudeError(
            f"the directory of conversation {session_id} ({recorded or 'not recorded'}) "
            "is gone; give --cwd DIR"
        )
    return recorded


def print_instance(
    app: App,
    instance_id: str,
    ready: dict[str, object],
    as_json: bool,
    made: dict[str, object] | None = None,
    reused: bool | None = None,
) -> None:
    from .output import print_json

    instance = app.registry.resolve(instance_id)
    data = instance.to_json()
    data["lockfile"] = ready.get("lockfile", data["lockfile"])
    data["socket"] = ready.get("socket", data["socket"])
    if made is not None:
        data["worktree"] = made
    if reused is not None:
        data["reused"] = reused
    if as_json:
        print_json(data)
    else:
        print(
            ("reused " if reused else "") + f"{data['name']} ({data['id']}) in {data['cwd']}: "
            f"port {data['port']}, pane {data['pane']}"
        )
