"""Review an instance's pending edits without an editor: accept, edit, reject, comment.

When Claude proposes an edit (Write, Edit), its host holds the proposal
until someone answers it: an editor, Claude's own permission prompt, or
this command, which answers exactly as an editor would (an accepted edit is
written by Claude; a rejected one is not, and Claude is told). For each
pending edit it shows the diff against the file on disk through your pager,
then asks:

  [a]ccept  [e]dit (in $VISUAL/$EDITOR, then accept what you saved)
  [r]eject  [s]kip  [c]omment (an @-mention of FILE:LINE and your text,
  typed into Claude's prompt)  [d]iff since start (everything the instance
  changed since it started, as `tclaude diff` shows it)  [q]uit

There is no default answer: Enter alone or an unknown key asks again, end of
input (Ctrl-D) quits, and nothing is accepted unless you say so. An edit
whose file changed on disk since Claude proposed it is flagged (accepting
overwrites that change).

examples:
  tclaude review api
  tclaude review                    the instance of this pane or directory
  tclaude review api --list [--json]
  tclaude review api --accept src/app.py
  tclaude review api --reject --all
  tclaude review api --comment src/app.py:42 "use the helper from utils here" --submit
"""

from __future__ import annotations

import argparse
import sys

from ..app import App
from ..errors import TclaudeError
from ..focus import target_instance
from ..names import printable
from ..registry import Instance
from ..review import Proposal, answer, comment, pending
from .flags import add_json_flag

KEYS = "aersqcd"
PROMPT = "[a]ccept [e]dit [r]eject [s]kip [c]omment [d]iff since start [q]uit? "


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "target", nargs="?", help="instance name, id or pane id (default: this pane's instance)"
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="list the pending edits and exit")
    action.add_argument(
        "--accept", nargs="?", const="", metavar="FILE", help="accept FILE's edit (or --all)"
    )
    action.add_argument(
        "--reject", nargs="?", const="", metavar="FILE", help="reject FILE's edit (or --all)"
    )
    action.add_argument(
        "--comment",
        nargs=2,
        metavar=("FILE:LINE", "TEXT"),
        help="type an @-mention of FILE:LINE (or FILE:START-END) and TEXT into Claude's prompt",
    )
    parser.add_argument("--all", action="store_true", help="with --accept or --reject: every edit")
    parser.add_argument(
        "--force",
        action="store_true",
        help="with --accept: even an edit whose file changed on disk since it was proposed",
    )
    parser.add_argument("--submit", action="store_true", help="press Enter after a comment")
    parser.add_argument("--from", dest="origin", metavar="PANE", help=argparse.SUPPRESS)
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    app = App.load()
    instance = target_instance(app, args.target, args.origin)
    if args.comment:
        spec, text = args.comment
        comment(app, instance, spec, text, args.submit)
        if not args.json:
            print(f"{instance.name}: comment typed into Claude's prompt")
        return 0
    if args.accept is not None or args.reject is not None:
        return _answer_all(instance, args)
    if args.list:
        return _list(instance, args.json)
    if not sys.stdin.isatty():
        raise TclaudeError(
            "review asks on a terminal; without one use --list, --accept FILE or --reject FILE"
        )
    return _interactive(app, instance, args.submit)


# --- the host's side --------------------------------------------------------


# --- non-interactive ----------------------------------------------------------


def _list(instance: Instance, as_json: bool) -> int:
    from ..durations import age
    from .output import print_json

    found = pending(instance)
    if as_json:
        print_json({"name": instance.name, "diffs": [p.to_json(instance.cwd) for p in found]})
        return 0
    if not found:
        print(f"{instance.name}: no pending edits")
        return 0
    print(f"{instance.name}: {len(found)} pending edit{'s' if len(found) > 1 else ''}")
    for proposal in found:
        name = proposal.shown_name(instance.cwd)
        flag = "  ! changed on disk since proposed" if proposal.changed_on_disk else ""
        not_shown = proposal.not_shown()
        if not_shown is None:
            added, removed = proposal.counts()
            new = " (new file)" if proposal.on_disk() is None else ""
            line = f"  {name}{new}  +{added} -{removed}  {age(proposal.age)} ago{flag}"
        else:
            line = f"  {name}  ! {not_shown}  {age(proposal.age)} ago{flag}"
        print(line)
        if warning := _outside(instance, proposal):
            print(f"    ! {warning}")
    return 0


def _outside(instance: Instance, proposal: Proposal) -> str | None:
    """The warning for an edit outside the instance's directory, printable."""
    real = proposal.outside(instance.cwd)
    if real is None:
        return None
    return f"outside {instance.name}'s directory: {printable(real, 1000)}"


def _answer_all(instance: Instance, args: argparse.Namespace) -> int:
    from ..review import find
    from .output import print_json

    accept = args.accept is not None
    spec: str = args.accept if accept else args.reject
    flag = "--accept" if accept else "--reject"
    if bool(spec) == args.all:
        raise TclaudeError(f"{flag} needs FILE or --all (one of them)")
    found = pending(instance)
    chosen = found if args.all else [find(found, spec, instance.cwd)]
    changed = [p.shown_name(instance.cwd) for p in chosen if p.changed_on_disk]
    if accept and changed and not args.force:
        raise TclaudeError(
            f"{', '.join(changed)} changed on disk since Claude proposed the edit: accepting "
            f"overwrites that; look first (tclaude review {instance.name}), or pass --force"
        )
    done: list[Proposal] = []
    for proposal in chosen:
        answer(instance, proposal, accept)
        done.append(proposal)
    word = "accepted" if accept else "rejected"
    if args.json:  # exact names: JSON escapes what the terminal must not see
        print_json({word: [p.shown_path(instance.cwd) for p in done]})
    elif not done:
        print(f"{instance.name}: no pending edits")
    else:
        for proposal in done:
            print(f"{word} {proposal.shown_name(instance.cwd)}")
    return 0


# --- interactive --------------------------------------------------------------


def _ask(prompt: str) -> str:
    """One of ``KEYS``; asks again on anything else, ``q`` at end of input."""
    while True:
        sys.stdout.write(prompt)
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            sys.stdout.write("\n")
            return "q"
        key = line.strip().lower()
        if len(key) == 1 and key in KEYS:
            return key
        print("answer a, e, r, s, c, d or q, then Enter")


def _read(prompt: str) -> str | None:
    sys.stdout.write(prompt)
    sys.stdout.flush()
    line = sys.stdin.readline()
    return line.rstrip("\n") if line else None


def _show(instance: Instance, proposal: Proposal, number: int, total: int) -> None:
    from ..durations import age
    from ..pager import colour_diff, page, use_colour

    added, removed = proposal.counts()
    where = proposal.shown_name(instance.cwd)
    header = (
        f"[{number}/{total}] {instance.name}: Claude proposes an edit to {where} "
        f"(+{added} -{removed}, {age(proposal.age)} ago)\n"
    )
    if proposal.changed_on_disk:
        header += f"! {where} changed on disk since it was proposed: accepting overwrites that\n"
    if warning := _outside(instance, proposal):
        header += f"! {warning}\n"
    diff = proposal.unified_diff(instance.cwd, safe=True)
    page(header + (colour_diff(diff) if use_colour() else diff), instance.cwd)


def _interactive(app: App, instance: Instance, submit: bool) -> int:
    from ..review import edit_text

    queue = pending(instance)
    if not queue:
        print(f"{instance.name}: no pending edits")
        return 0
    for number, first in enumerate(queue, 1):
        now = {p.tab_name: p for p in pending(instance)}
        proposal = now.get(first.tab_name)
        where = first.shown_name(instance.cwd)
        if proposal is None:
            print(f"{where}: answered elsewhere meanwhile; skipped")
            continue
        _show(instance, proposal, number, len(queue))
        while True:
            key = _ask(f"{where}: {PROMPT}")
            if key == "q":
                return 0
            if key == "s":
                break
            if key == "c":
                _interactive_comment(app, instance, proposal, submit)
                continue
            if key == "d":
                _changes(instance)
                continue
            contents: str | None = None
            if key == "e":
                contents = edit_text(proposal.contents, proposal.path)
                if contents is None:
                    print("the editor failed or was quit with an error: nothing accepted")
                    continue
            try:
                answer(instance, proposal, key != "r", contents)
            except TclaudeError as err:
                print(f"not answered: {printable(str(err), 1000)}")
                break
            verb = {"a": "accepted", "e": "accepted with your edits", "r": "rejected"}[key]
            print(f"{verb}: {where}")
            break
    return 0


def _changes(instance: Instance) -> None:
    """What the instance changed since it started, per file, as ``tclaude diff`` shows it."""
    from .diff_cmd import show, worktree

    try:
        show(instance, worktree(instance))
    except TclaudeError as err:
        print(f"no changes to show: {err}")


def _interactive_comment(app: App, instance: Instance, proposal: Proposal, submit: bool) -> None:
    line = _read("line (or START-END) in the file on disk, empty for the whole file: ")
    if line is None:
        return
    text = _read("comment (empty: cancel): ")
    if not text or not text.strip():
        print("no comment sent")
        return
    spec = proposal.old_path + (f":{line.strip()}" if line.strip() else "")
    try:
        comment(app, instance, spec, text, submit)
    except TclaudeError as err:
        print(f"not sent: {printable(str(err), 1000)}")  # it may name the proposed file
        return
    print("comment typed into Claude's prompt" + ("" if submit else " (not submitted)"))
