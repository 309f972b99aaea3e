"""Git worktrees and the instances that run in them: who owns which, rows, sync."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict

from .app import App
from .errors import TclaudeError
from .registry import Instance
from .worktree import Repository, Worktree, is_stale, sanitise

if TYPE_CHECKING:
    from .spawn import SpawnRequest


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


def sync(
    app: App,
    repo: Repository,
    instances: list[Instance],
    dry_run: bool,
    report_item: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Start a detached instance in each worktree that has none; what was done, per worktree.

    ``report_item`` hears of each worktree as soon as it is done.
    """
    from .spawn import Spawner, SpawnRequest

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
            name = name_for(worktree, taken)
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
        if report_item is not None:
            report_item(item)
    return report


def name_for(worktree: Worktree, taken: set[str]) -> str:
    """The branch's name for a linked worktree, the directory's for the main one."""
    from .spawn import unique_name

    use_branch = worktree.branch and not worktree.main
    base = worktree.branch if use_branch else os.path.basename(worktree.path.rstrip("/"))
    return unique_name(sanitise(base or "worktree"), taken)


def make_for(
    app: App,
    request: SpawnRequest,
    branch: str,
    base: str | None = None,
    path: str | None = None,
    say: Callable[[str], None] | None = None,
) -> dict[str, object]:
    """Create (or reuse) ``branch``'s worktree for a new instance and point ``request`` at it.

    ``say`` hears of progress (created, files included, the setup command) as it happens.
    """
    from . import worktree as wt
    from .spawn import unique_name

    say = say or (lambda _line: None)

    repo = wt.Repository.discover(request.cwd)
    added = repo.add(branch, base, path, app.config.worktree_dir)
    path = added.worktree.path
    copied: list[str] = []
    if added.created:
        if not repo.main.bare:  # includes come from the main worktree's files
            others = [w.path for w in repo.worktrees() if w.path != path and not w.main]
            copied = wt.copy_includes(
                repo.root,
                path,
                app.config.worktree_include,
                app.config.worktree_include_mode,
                skip=others,
            )
        say(f"worktree {path}: branch {branch} ({added.how})")
        if copied:
            verb = "linked" if app.config.worktree_include_mode == "symlink" else "copied"
            say(f"{verb} " + ", ".join(copied))
        if app.config.worktree_setup:
            say(f"setup: {app.config.worktree_setup}")
            wt.run_setup(app.config.worktree_setup, path, branch, repo.root)
    else:
        instances = app.registry.instances()
        running = app.registry.for_directory(path, instances)
        if running is not None and running.cwd == path and request.name is None:
            raise TclaudeError(
                f"instance {running.name!r} runs in the worktree {path} already; "
                f"focus it with `tclaude switch {running.name}`, or give --name to start another"
            )
        say(f"worktree {path}: branch {branch} (existing worktree)")
    if request.name is None:
        taken = {i.name for i in app.registry.instances()}
        request.name = unique_name(wt.sanitise(branch), taken)
    request.cwd = path
    request.worktree = path
    return {
        "path": path,
        "branch": branch,
        "created": added.created,
        "how": added.how,
        "copied": copied,
        "setup": app.config.worktree_setup if added.created else None,
    }
