"""List the instances: running ones from tmux, stopped ones from the state file.

examples:
  tclaude list
  tclaude list --json | jq '.[] | select(.state == "waiting") | .name'
"""

from __future__ import annotations

import argparse

from ..app import App
from .flags import add_json_flag


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    from ..durations import age
    from .output import print_json, state_style, table
    from .usage_column import cell, usage_of

    app = App.load()
    instances = app.registry.instances()
    rows = [i.to_json() for i in instances]
    usage = usage_of(instances, app.config)
    for row in rows:
        row["usage"] = usage[row["id"]]
    if args.json:  # "state" is the host's; "unseen" says done
        print_json(rows)
        return 0
    if not rows:
        print("no instances; start one with: tclaude new")
        return 0
    for r in rows:  # one word with the picker and the status glyph: done, not seen yet
        if r["state"] == "idle" and r["unseen"]:
            r["state"] = "done"
    table(
        ["name", "id", "state", "port", "clis", "age", "usage", "target", "cwd"],
        [
            [
                ("* " if r["active"] else "  ") + r["name"],
                r["id"],
                r["state"],
                str(r["port"] or "-"),
                str(r["clis"]),
                age(r["age"]),
                cell(r["usage"]),
                r["target"] or "-",
                r["cwd"],
            ]
            for r in rows
        ],
        styles=[{2: state_style(r["state"])} for r in rows],
    )
    return 0
