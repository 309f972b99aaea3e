"""Choose an instance from a tmux menu (display-menu); items run tclaude switch.

Items: each running instance with its state glyph and keys 1-9, then each
remote one as REMOTE:NAME (as last heard here; "stale" with its age when its
remote is silent), then "pick" (the full-screen picker in a popup) and "new"
(an instance in the current pane's directory). As many instances as the
client's height (and tmux's limit on a command's length) allows, local ones
first; the rest are one "N more… (pick)" item. Outside tmux, or with --print,
prints the display-menu command instead of showing it.

examples:
  tclaude menu
  tclaude menu --print
  bind-key C-e run-shell -b "tclaude menu --client '#{client_name}' --from '#{pane_id}'"
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from collections.abc import Callable

from ..app import App

TITLE = "#[align=centre] tclaude "
# the instance items' bytes at most: tmux refuses a command of about 16 KiB ("command too long")
MAX_ITEM_BYTES = 8192
FRAME_LINES = 5  # what a menu takes besides the instances: its border, a separator, pick, new


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--client", help="the tmux client to show the menu on (#{client_name})")
    parser.add_argument(
        "--print", action="store_true", help="print the display-menu command, do not show it"
    )
    parser.add_argument(
        "--from",
        dest="origin",
        metavar="PANE",
        help="the pane the menu was opened from (#{pane_id}), for the picker's item",
    )


def self_command() -> str:
    """This tclaude, as a shell command that works whatever the server's PATH is."""
    return shlex.join([sys.executable, "-m", "tmuxclaude"])


def menu_argv(
    app: App, client: str | None, origin: str | None = None, height: int | None = None
) -> list[str]:
    """``display-menu`` and its arguments: title, then name/key/command per item.

    ``height``: the client's lines, if known (tmux does not show a menu taller than
    its client); the instance items stop in time for it and for ``MAX_ITEM_BYTES``.
    """
    from ..durations import age
    from ..picker import AnyRow, RemoteRow, load_remote_rows, load_rows

    local = [row for row in load_rows(app.tmux, app.state) if row.instance.running]
    rows: list[AnyRow] = [*local, *load_remote_rows(app.config)]
    command = self_command()
    run = item_runner(app, client)
    argv = ["display-menu", "-T", TITLE, "-x", "C", "-y", "C"]
    if client:
        argv[1:1] = ["-c", client]
    width = max([len(row.label) for row in rows] + [0])
    to = f" --client {shlex.quote(client)}" if client else ""
    items: list[list[str]] = []
    for index, row in enumerate(rows):
        state = row.state
        if isinstance(row, RemoteRow) and row.seen is not None:
            state += f", stale {age(row.seen)}"
        label = f"{row.glyph} {row.label:<{width}}  {state}".replace("#", "##")
        key = str(index + 1) if index < 9 else ""
        # a remote one by REMOTE:NAME, as tclaude switch takes it; names are checked, and
        # quoted all the same; the command is a format too: # doubled
        target = shlex.quote(row.label) if isinstance(row, RemoteRow) else row.instance.id
        action = run(f"switch {target}{to}".replace("#", "##"))
        items.append([label, key, action])
    # display-popup does not expand formats in its command: the origin goes in as is
    pick = shlex.quote(
        f"{command} pick"
        + (f" --from {origin}" if origin else "")
        + (f" --client {shlex.quote(client)}" if client else "")
    )
    popup = f"display-popup -E -w 90% -h 85% -d '#{{pane_current_path}}' {pick}"
    shown = _fitting(items, None if height is None else height - FRAME_LINES)
    for item in items[:shown]:
        argv += item
    if shown < len(items):
        argv += [f"{len(items) - shown} more… (pick)", "", popup]
    if items:
        argv.append("")  # a separator
    # q: quotes the path for sh: a directory named $(…) stays a name
    argv += [
        "pick…",
        "p",
        popup,
        "new instance here",
        "n",
        run("new --cwd #{q:pane_current_path}"),
    ]
    return argv


def _fitting(items: list[list[str]], lines: int | None) -> int:
    """How many of ``items`` go in: all if they fit in ``lines`` (None: any number) and
    ``MAX_ITEM_BYTES``, else as many as leave a line for the "more" item."""
    size = count = 0
    for item in items:
        size += sum(len(word.encode()) + 1 for word in item)
        if size > MAX_ITEM_BYTES:
            break
        count += 1
    if lines is not None and (count < len(items) or count > lines):
        count = max(0, min(count, lines - 1))
    return count


def item_runner(app: App, client: str | None) -> Callable[[str], str]:
    """How an item runs ``tclaude ARGS`` (shell words, a tmux format: ``#`` doubled where
    meant literally): its tmux command. Through the plugin's ``scripts/run.sh`` when the
    plugin is loaded, so that an error is a message on the client, not tmux's "returned 2";
    else with the error as the output run-shell shows."""
    from ..tmux_plugin import FORMAT

    plugin = app.tmux.display(FORMAT, check=False).strip()
    script = os.path.join(os.path.dirname(plugin), "scripts", "run.sh")
    if os.path.isabs(plugin) and os.path.isfile(script):
        # run.sh word-splits its COMMAND: python's path as one word, through env if need be
        python = shlex.quote(sys.executable)
        if python != sys.executable:
            python = f"env {python}"
        # the menu's own client when none is named: a format, expanded as the item runs
        to = shlex.quote(client).replace("#", "##") if client else "'#{client_name}'"
        script_words = f"sh {shlex.quote(script)}".replace("#", "##")
        head = f"{script_words} {to} {python.replace('#', '##')} -m tmuxclaude"
        tail = ""
    else:
        head, tail = self_command().replace("#", "##"), " 2>&1 >/dev/null"

    def command(args: str) -> str:
        return f"run-shell -b {shlex.quote(f'{head} {args}{tail}')}"

    return command


def run(args: argparse.Namespace) -> int:
    from ..tmux import inside_tmux

    app = App.load()
    origin = args.origin if args.origin and re.fullmatch(r"%[0-9]+", args.origin) else None
    if args.print or not (args.client or inside_tmux()):
        print(shlex.join(app.tmux.argv(*menu_argv(app, args.client, origin))))
        return 0
    client = ["-c", args.client] if args.client else []
    height = app.tmux.run("display-message", "-p", *client, "#{client_height}").strip()
    argv = menu_argv(app, args.client, origin, int(height) if height.isdigit() else None)
    app.tmux.run(*argv)
    return 0
