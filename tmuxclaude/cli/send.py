"""Send an at-mention or text to an instance (or text to all of them).

--file mentions a file (lines are 1-based and inclusive here) through the
instance's editor socket: Claude's prompt gets @path#L10-20. --text pastes
text into its pane (bracketed paste); --submit then presses Enter.

Text is typed only into an instance that is idle or busy: one that is
waiting (a permission or question prompt is open: a pasted "1" or an Enter
would answer it) or not ready (starting, error, stopped, stale) is refused
by send and skipped by broadcast, unless --force. The state is checked by
tmux itself in the same step as the paste, and again with the Enter.

examples:
  tclaude send api --file src/app.py:10-20
  tclaude send api --text "run the tests" --submit
  tclaude broadcast --text "/compact" --submit
  tclaude send api --text 2 --force      answer its open prompt on purpose
"""

from __future__ import annotations

import argparse
import sys

from ..app import App
from ..editor_client import editor_call
from ..errors import TclaudeError
from ..mentions import parse_file_spec
from ..paste import NotTyped, paste
from .flags import add_json_flag


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    if name == "send":
        parser.add_argument("target", help="instance name, id or pane id")
        parser.add_argument("--file", help="PATH[:START[-END]], 1-based lines")
    parser.add_argument("--text", help="text to paste into the prompt")
    parser.add_argument("--submit", action="store_true", help="press Enter after the text")
    parser.add_argument(
        "--force",
        action="store_true",
        help="type even into a waiting prompt or an instance that is not ready",
    )
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    from .output import print_json

    if args.text == "":
        raise TclaudeError("--text is empty: nothing to type")
    app = App.load()
    if args.command == "broadcast":
        if not args.text:
            raise TclaudeError("broadcast needs --text")
        sent: list[str] = []
        skipped: dict[str, str] = {}
        for instance in app.registry.instances():
            if not instance.running:
                continue
            try:
                paste(app, instance, args.text, args.submit, args.force)
            except NotTyped as refused:
                skipped[instance.name] = refused.state
            else:
                sent.append(instance.name)
        if args.json:
            print_json({"sent": sent, "skipped": skipped})
        else:
            print(f"sent to {len(sent)} instance(s)")
            if skipped:
                names = ", ".join(f"{name} ({state})" for name, state in skipped.items())
                print(f"skipped (not ready, or a prompt is open; --force to type anyway): {names}")
        return 0
    if not args.file and args.text is None:
        raise TclaudeError("send needs --file or --text")
    instance = app.registry.resolve(args.target)
    if not instance.running:
        raise TclaudeError(f"instance {instance.name!r} is not running")
    result: dict[str, object] = {}
    if args.file:
        mention = parse_file_spec(args.file)
        result = editor_call(instance, "at_mentioned", mention)
        if any(char.isspace() for char in str(mention["filePath"])):
            # Claude Code writes the mention as @path#L.. unquoted: it ends at the space
            print(
                f"tclaude: warning: Claude Code does not resolve an @-mention of a path "
                f"with a space ({mention['filePath']}); name the file in --text instead",
                file=sys.stderr,
            )
    if args.text is not None:
        paste(app, instance, args.text, args.submit, args.force)
        result["pasted"] = True
    if args.json:
        print_json(result)
    elif args.file and result.get("queued"):
        print(f"{instance.name}: no Claude connected yet; the mention is queued until it is")
    elif args.file and result.get("delivered") == 0:
        print(f"{instance.name}: no Claude connected yet; the mention was not delivered")
    return 0
