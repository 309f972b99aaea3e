"""Stopping instances so that nothing is left: processes, lock files, sockets, records.

SIGTERM goes to each host (which passes it to claude and cleans up); what
lingers past the grace period is killed as a whole process tree; then the
pane is closed and any file a killed host could not remove is removed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

import psutil

from . import paths, runtime_files, watch
from .registry import Instance
from .state_file import StateFile
from .tmux import Tmux

GRACE = 8.0  # seconds a host has to stop after SIGTERM (its claude gets 5 of them)


def _tree(pid: int | None) -> list[psutil.Process]:
    if not pid:
        return []
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _running(proc: psutil.Process) -> bool:
    """Alive and not a zombie (an exited host waits for tmux to reap it)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _wait(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """The processes still running after up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    alive = [p for p in procs if _running(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.01)
        alive = [p for p in alive if _running(p)]
    return alive


def stop(instances: list[Instance], tmux: Tmux, state: StateFile, forget: bool = True) -> None:
    """Stop every instance given, in parallel; return when all of them are gone."""
    procs: list[psutil.Process] = []
    for instance in instances:
        pane = instance.pane
        host_pid = pane.host_pid if pane else None
        tree = _tree(host_pid) or _tree(pane.pane_pid if pane and not pane.dead else None)
        procs += tree
        if tree:
            with contextlib.suppress(psutil.Error):
                tree[0].send_signal(signal.SIGTERM)
    alive = _wait(procs, GRACE)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    _wait(alive, 3)
    commands: list[list[str]] = []
    panes = {p.pane_id for p in tmux.instance_panes()}
    for instance in instances:
        if instance.pane and instance.pane.pane_id in panes:
            commands.append(["kill-pane", "-t", instance.pane.pane_id])
        _remove_files(instance)
    if commands:
        tmux.sequence(commands, check=False)
    if forget:
        with state.locked() as entries:
            for instance in instances:
                entries.pop(instance.id, None)
        for instance in instances:
            watch.publish({"type": "killed", "id": instance.id})


def _remove_files(instance: Instance) -> None:
    saved = runtime_files.read(instance.id) or {}  # names the lock file when tmux lost the port
    lock = saved.get("lockfile")
    if isinstance(lock, str) and os.path.basename(os.path.dirname(lock)) == "ide":
        paths.remove_quietly(lock)
    for leftover in [*runtime_files.leftovers(instance.id), runtime_files.log_path(instance.id)]:
        paths.remove_quietly(leftover)
    if instance.port:
        lock = instance.lockfile
        if lock and os.path.exists(lock):
            paths.remove_quietly(lock)
