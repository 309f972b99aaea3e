"""Print the last turns of an instance's conversation, from Claude Code's transcript.

Each turn: your prompt, Claude's text, and the tools it called with the files
(or commands) they worked on. Follows the instance's current Claude session
(a /clear starts a new one).

examples:
  tclaude log api
  tclaude log api -n 1          the last turn only
  tclaude log api --json | jq '.turns[-1].tools'
"""

from __future__ import annotations

import argparse
import sys

from ..app import App
from ..errors import NotFoundError
from .flags import add_json_flag
from .output import positive_count


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("target", help="instance name, id or pane id")
    parser.add_argument(
        "-n", "--turns", type=positive_count, default=5, help="how many turns (default 5)"
    )
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    from .. import transcript
    from .output import print_json

    app = App.load()
    instance = app.registry.resolve(args.target)
    saved = instance.saved
    session_id = saved.session_id if saved else None
    path = transcript.path_for(instance.cwd, session_id, saved.transcript if saved else None)
    if path is None:
        raise NotFoundError(f"instance {instance.name!r} has no Claude session recorded yet")
    try:
        records, _ = transcript.read_records(path)
    except FileNotFoundError:
        raise NotFoundError(
            f"instance {instance.name!r} has no conversation yet (no transcript {path})"
        ) from None
    except OSError as exc:
        raise NotFoundError(f"cannot read the transcript {path}: {exc.strerror}") from None
    turns = transcript.turns(records)[-args.turns :]
    if args.json:
        print_json(
            {
                "name": instance.name,
                "id": instance.id,
                "session_id": session_id,
                "transcript": path,
                "turns": [t.to_json() for t in turns],
            }
        )
        return 0
    if not turns:
        print(f"{instance.name}: no prompts yet")
        return 0
    out: list[str] = []
    for turn in turns:
        when = (turn.timestamp or "")[:16].replace("T", " ")
        out.append(f"── {when} you".rstrip())
        out.append(turn.prompt.rstrip())
        if turn.text or turn.tools or turn.error:
            out.append("── claude")
        out += [text.rstrip() for text in turn.text]
        out += [f"  ⏺ {t.name}" + (f" {t.target}" if t.target else "") for t in turn.tools]
        if turn.error:
            out.append(f"  ✗ stopped: {turn.error}")
        out.append("")
    sys.stdout.write("\n".join(out))
    return 0
