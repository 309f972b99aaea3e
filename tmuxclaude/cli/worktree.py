"""The current repository's git worktrees and their instances.

list (the default) shows each worktree with its instance (or none), branch,
uncommitted changes and commits not pushed anywhere. sync starts a detached
instance in every worktree that has none; run twice, it starts nothing the
second time.

examples:
  tclaude worktree                     same as: tclaude worktree list
  tclaude worktree list --json
  tclaude worktree sync --dry-run      what sync would start
  tclaude worktree sync
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any, TypedDict

from ..app import App
from ..registry import Instance
from ..worktree import Repository, Worktree, is_stale, sanitise
from .flags import add_json_flag

ACTIONS = ("list", "sync")


class InstanceRow(TypedDict):
    name: str
    id: str
    state: str
    cwd: str


class WorktreeRow(TypedDict):
    path: str
    branch: str | None
    head: str | None
    main: bool
    exists: bool
    locked: bool
    dirty: bool | None
    changes: int | None
    upstream: str | None
    ahead: int | None
    unpushed: int | None
    instance: InstanceRow | None
    instances: list[InstanceRow]


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    sub = parser.add_subparsers(dest="action", metavar="{list,sync}")
    for action, summary in (
        ("list", "each worktree with its instance, branch, changes, unpushed commits"),
        ("sync", "start an instance in each worktree that has none"),
    ):
        child = sub.add_parser(action, help=summary, description=summary)
        child.add_argument("--cwd", default=None, help="a directory in the repository (default .)")
        if action == "sync":
            child.add_argument("--dry-run", action="store_true", help="say what would start")
        add_json_flag(child)


def parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    args = list(argv)
    if not args or (args[0].startswith("-") and args[0] not in ("-h", "--help")):
        args.insert(0, "list")
    return parser.parse_args(args)


def run(args: argparse.Namespace) -> int:
    app = App.load()
    repo = Repository.discover(args.cwd or os.getcwd())
    instances = app.registry.instances()
    if args.action == "sync":
        return _sync(app, repo, instances, args.dry_run, args.json)
    return _list(repo, instances, args.json)


def _state(instance: Instance) -> str:
    return "stale" if is_stale(instance.cwd, instance.running) else instance.state


def owners(repo: Repository, instances: list[Instance]) -> dict[str, list[Instance]]:
    """Each worktree path -> the instances whose cwd it holds most closely."""
    owned: dict[str, list[Instance]] = {w.path: [] for w in repo.worktrees()}
    for instance in instances:
        if not instance.cwd:
            continue
        saved = instance.saved.worktree if instance.saved else None
        found = repo.containing(saved or instance.cwd)
        if found is not None:
            owned.setdefault(found.path, []).append(instance)
    for listed in owned.values():  # running first, then the one right at the root
        listed.sort(key=lambda i: (not i.running, len(i.cwd)))
    return owned


def _instance_row(instance: Instance) -> InstanceRow:
    return {
        "name": instance.name,
        "id": instance.id,
        "state": _state(instance),
        "cwd": instance.cwd,
    }


def rows(repo: Repository, instances: list[Instance]) -> list[WorktreeRow]:
    owned = owners(repo, instances)
    result: list[WorktreeRow] = []
    for worktree in repo.worktrees():
        if worktree.bare:
            continue
        path = os.path.realpath(worktree.path)
        mine = [_instance_row(i) for i in owned.get(path, [])]
        status = repo.status(worktree) if worktree.exists else None
        result.append(
            {
                "path": path,
                "branch": worktree.branch,
                "head": worktree.head,
                "main": worktree.main,
                "exists": worktree.exists,
                "locked": worktree.locked,
                "dirty": status.dirty if status else None,
                "changes": status.changes if status else None,
                "upstream": status.upstream if status else None,
                "ahead": status.ahead if status else None,
                "unpushed": status.unpushed if status else None,
                "instance": mine[0] if mine else None,
                "instances": mine,
            }
        )
    return result


def _list(repo: Repository, instances: list[Instance], as_json: bool) -> int:
    from .output import print_json, state_style, table

    found = rows(repo, instances)
    if as_json:
        print_json(found)
        return 0

    def dirty(row: WorktreeRow) -> str:
        if not row["exists"]:
            return "gone"
        return f"yes ({row['changes']})" if row["dirty"] else "no"

    def pushed(row: WorktreeRow) -> str:
        if row["unpushed"] is None:
            return "-"
        ahead = f", ahead of {row['upstream']}" if row["ahead"] else ""
        return f"{row['unpushed']}{ahead}"

    table(
        ["worktree", "branch", "instance", "state", "dirty", "unpushed"],
        [
            [
                row["path"] + (" (main)" if row["main"] else ""),
                row["branch"] or "(detached)",
                row["instance"]["name"] if row["instance"] else "-",
                row["instance"]["state"] if row["instance"] else "-",
                dirty(row),
                pushed(row),
            ]
            for row in found
        ],
        styles=[{3: state_style(r["instance"]["state"])} if r["instance"] else {} for r in found],
    )
    return 0


def _sync(
    app: App, repo: Repository, instances: list[Instance], dry_run: bool, as_json: bool
) -> int:
    from ..spawn import Spawner, SpawnRequest
    from .output import print_json

    owned = owners(repo, instances)
    taken = {i.name for i in instances}
    spawner = Spawner(app.config, app.tmux, app.state)
    report: list[dict[str, Any]] = []
    for worktree in repo.worktrees():
        if worktree.bare:
            continue
        path = os.path.realpath(worktree.path)
        mine = owned.get(path, [])
        item: dict[str, Any] = {"worktree": path, "branch": worktree.branch}
        if not worktree.exists:
            item |= {"action": "skipped", "reason": "directory gone (git worktree prune)"}
        elif mine:
            item |= {"action": "exists", "instance": mine[0].name, "state": _state(mine[0])}
        else:
            name = _name_for(worktree, taken)
            taken.add(name)
            item |= {"action": "would start" if dry_run else "started", "instance": name}
            if not dry_run:
                spawner.spawn(
                    SpawnRequest(
                        cwd=path,
                        name=name,
                        layout=app.config.layout,
                        detached=True,
                        worktree=None if worktree.main else path,
                    )
                )
        report.append(item)
        if not as_json:
            print(_describe(item))
    if as_json:
        print_json(report)
    return 0


def _name_for(worktree: Worktree, taken: set[str]) -> str:
    """The branch's name for a linked worktree, the directory's for the main one."""
    from ..spawn import unique_name

    use_branch = worktree.branch and not worktree.main
    base = worktree.branch if use_branch else os.path.basename(worktree.path.rstrip("/"))
    return unique_name(sanitise(base or "worktree"), taken)


def _describe(item: dict[str, Any]) -> str:
    path = item["worktree"]
    if item["action"] == "exists":
        return f"{path}: has {item['instance']} ({item['state']})"
    if item["action"] == "skipped":
        return f"{path}: skipped, {item['reason']}"
    return f"{path}: {item['action']} {item['instance']}"
