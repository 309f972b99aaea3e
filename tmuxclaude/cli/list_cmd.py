"""List the instances: running ones from tmux, stopped ones from the state file.

With remotes configured, their instances too (the REMOTE column). While
watch-remotes runs (the tmux plugin starts it) they come from its feeds,
asking nobody; else (or with --fresh) each remote is asked, in parallel,
within the remote timeout. A remote that does not answer (or whose feed
has been silent that long) shows what it said last, marked stale with its age.

examples:
  tclaude list
  tclaude list --json | jq '.[] | select(.state == "waiting") | .name'
  tclaude list --on gpu                      only the remote gpu's
  tclaude list --fresh                       ask every remote now
"""

from __future__ import annotations

import argparse
import sys

from ..app import App
from .flags import add_json_flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    add_json_flag(parser)
    parser.add_argument(
        "--fresh", action="store_true", help="ask each remote now, not its feed (see watch-remotes)"
    )
    # what a local tclaude asks a remote's: its version with the rows (remote/listing.py)
    parser.add_argument("--remote-envelope", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from ..durations import age
    from ..instance_usage import usage_of
    from .output import print_json, state_style, table
    from .usage_column import cell

    app = App.load()
    only_remote = getattr(args, "only_remote", None)  # list --on NAME (cli/remote_verbs.py)
    rows: list[dict[str, Any]] = []
    if only_remote is None:
        instances = app.registry.instances()
        rows = [i.to_json() for i in instances]
        usage = usage_of(instances, app.config)
        for row in rows:
            row["usage"] = usage[row["id"]]
            row["remote"] = None
    if args.remote_envelope:
        from .. import VERSION

        print_json({"version": VERSION, "instances": rows})
        return 0
    notes: list[str] = []
    if app.config.remotes:  # only then: no ssh, threads or subprocess on the plain path
        from ..remote.listing import gather

        for listing in gather(app.config, only_remote, fresh=args.fresh):
            rows += listing.rows
            if listing.message:
                notes.append(listing.message)
    for note in notes:
        print(f"tclaude: {note}", file=sys.stderr)
    if args.json:  # "state" is the host's; "unseen" says done
        print_json(rows)
        return 0
    if not rows:
        on = f" --on {only_remote}" if only_remote else ""
        print(f"no instances; start one with: tclaude new{on}")
        return 0
    for r in rows:  # one word with the picker and the status glyph: done, not seen yet
        if r["state"] == "idle" and r["unseen"]:
            r["state"] = "done"
    columns = ["name", "id", "state", "port", "clis", "age", "usage", "target", "cwd"]
    if app.config.remotes:
        columns.insert(1, "remote")
    cells = []
    for r in rows:
        line = [
            ("* " if r["active"] and not r["remote"] else "  ") + r["name"],
            r["id"],
            r["state"],
            str(r["port"] or "-"),
            "-" if r["clis"] is None else str(r["clis"]),
            age(r["age"]),
            cell(r["usage"]),
            r["target"] or "-",
            r["cwd"],
        ]
        if app.config.remotes:
            line.insert(1, _remote_cell(r))
        cells.append(line)
    state_column = columns.index("state")
    table(columns, cells, styles=[{state_column: state_style(r["state"])} for r in rows])
    return 0


def _remote_cell(row: dict[str, object]) -> str:
    from ..durations import age

    remote = row.get("remote")
    if not remote:
        return "-"
    seen = row.get("seen")
    return f"{remote} (stale {age(seen)})" if isinstance(seen, int | float) else str(remote)
