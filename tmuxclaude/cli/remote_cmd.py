"""SSH remotes: add, list, check, remove, install.

A remote is a machine reached with OpenSSH that runs tclaude too; every verb
takes --on NAME (or a NAME:instance target) to act there.

examples:
  tclaude remote add gpu --ssh gpu-box              an alias of your ~/.ssh/config
  tclaude remote install gpu                        put this tclaude on it
  tclaude remote check                              reachability, latency, versions
  tclaude new --on gpu --cwd src/app                a relative --cwd is the remote's
  tclaude remote remove gpu
"""

from __future__ import annotations

import argparse
import os
import sys

from ..app import App
from ..errors import TclaudeError
from .flags import add_json_flag


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    commands = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = commands.add_parser("add", help="add a remote to config.toml")
    add.add_argument("name", help="the remote's name (letters, digits, _ + -)")
    add.add_argument("--ssh", required=True, help="ssh alias or [user@]host")
    add.add_argument("--ssh-config", metavar="PATH", help="an ssh config file (ssh -F)")
    add.add_argument("--tclaude", metavar="PATH", help="tclaude's path on the remote")
    listing = commands.add_parser("list", help="the configured remotes")
    add_json_flag(listing)
    check = commands.add_parser("check", help="reachability, latency and versions")
    check.add_argument("name", nargs="?", help="one remote (default: all)")
    add_json_flag(check)
    remove = commands.add_parser("remove", help="remove a remote from config.toml")
    remove.add_argument("name")
    install = commands.add_parser("install", help="install this tclaude on a remote")
    install.add_argument("name")


def run(args: argparse.Namespace) -> int:
    from .. import paths
    from ..remote import config_file

    if args.action == "add":
        table = {"ssh": args.ssh}
        if args.ssh_config:
            path = args.ssh_config
            # as given from here: a relative one would name another file from elsewhere
            table["ssh_config"] = path if path.startswith(("~", "/")) else os.path.abspath(path)
        if args.tclaude:
            table["tclaude"] = args.tclaude
        config_file.add(paths.config_file(), args.name, table)
        print(f"remote {args.name} added; check it with: tclaude remote check {args.name}")
        _feeds_follow(App.load())
        return 0
    if args.action == "remove":
        app = App.load()
        if not config_file.remove(paths.config_file(), args.name):
            raise TclaudeError(f"no remote {args.name!r} in {paths.config_file()}")
        _close(app, args.name)
        print(f"remote {args.name} removed (its instances run on; tclaude no longer reaches them)")
        return 0
    app = App.load()
    if args.action == "list":
        return _list(app, args.json)
    if args.action == "check":
        return _check(app, args.name, args.json)
    return _install(app, args.name)


def _feeds_follow(app: App) -> None:
    """Start ``watch-remotes`` (the status feeds) if a tmux server runs and none does yet:
    a running one follows config.toml by itself, and one is started only beside a tmux
    server, which it ends with."""
    if app.tmux.is_running():
        from ..remote.feed import start_detached

        start_detached()


def _close(app: App, name: str) -> None:
    """Stop a removed remote's connection and forget what tclaude cached of it."""
    from .. import paths
    from ..remote import feed_cache, listing
    from ..remote.ssh import Remote, close

    if name in app.config.remotes:
        close(Remote.named(app.config, name))
    for cached in (listing.cache_path(name), feed_cache.cache_path(name)):
        paths.remove_quietly(cached)


_LIST_COLUMNS = (("name", ""), ("ssh", ""), ("ssh_config", "-"), ("tclaude", "tclaude"))


def _list(app: App, as_json: bool) -> int:
    from .output import print_json, table

    rows: list[dict[str, str | float | None]] = [
        {
            "name": name,
            **{
                k: app.config.remotes[name].get(k)
                for k in ("ssh", "ssh_config", "tclaude", "timeout")
            },
        }
        for name in sorted(app.config.remotes)
    ]
    if as_json:
        print_json(rows)
    elif not rows:
        print("no remotes; add one with: tclaude remote add NAME --ssh ALIAS")
    else:
        cells = [[str(r[k] or default) for k, default in _LIST_COLUMNS] for r in rows]
        table(["name", "ssh", "ssh_config", "tclaude"], cells)
    return 0


def _check(app: App, name: str | None, as_json: bool) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from ..remote.check import check
    from ..remote.ssh import Remote, configured
    from .output import print_json, table

    remotes = [Remote.named(app.config, name)] if name else configured(app.config)
    if not remotes:
        raise TclaudeError("no remotes; add one with: tclaude remote add NAME --ssh ALIAS")
    with ThreadPoolExecutor(max_workers=len(remotes)) as pool:
        results = list(pool.map(check, remotes))
    if as_json:
        print_json([h.to_json() for h in results])
    else:
        table(
            ["remote", "state", "latency", "tclaude", "claude", "detail"],
            [
                [
                    h.remote,
                    h.state,
                    "-" if h.latency_ms is None else f"{h.latency_ms:.0f} ms",
                    h.tclaude or "-",
                    h.claude or "-",
                    h.message,
                ]
                for h in results
            ],
        )
    return 0 if all(h.state == "ok" for h in results) else 1


def _install(app: App, name: str) -> int:
    from ..remote import config_file
    from ..remote.install import build_wheels, install
    from ..remote.ssh import Remote

    remote = Remote.named(app.config, name)
    print("building wheels ...", file=sys.stderr, flush=True)
    wheels = build_wheels()
    print(f"installing on {name} ...", file=sys.stderr, flush=True)
    where = install(remote, wheels)
    print(f"tclaude installed on {name}: {where}")
    if remote.tclaude is None:  # ~/.local/bin is seldom on a non-login ssh command's PATH
        from .. import paths

        table = {**app.config.remotes[name], "tclaude": "~/.local/bin/tclaude"}
        config_file.remove(paths.config_file(), name)
        config_file.add(paths.config_file(), name, table)
        print(f"remotes.{name}.tclaude set to ~/.local/bin/tclaude")
    return 0
