"""Bringing instances back after their panes, the tmux server or the machine went away.

For every instance in the state file that has no running host: relaunch it
in its cwd and layout, with ``--resume=<session id>`` when Claude's
transcript of its recorded session is there, else fresh with
``--session-id=<the same id>`` (a session never prompted has no
transcript), else — no valid id recorded, or another instance holds the
same one — fresh with a new id; and say which and why. Never
``--continue``: the latest conversation of a directory may be another
instance's. A shell that tmux-resurrect restored in the instance's place is
reused. Running instances are left alone, so restoring twice is harmless.
Lock files, sockets and records of dead hosts are swept on the way.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import lockfile, paths, runtime_files
from .errors import TclaudeError
from .registry import Instance, Registry
from .session_ids import is_session_id, new_session_id, trusted_transcript
from .state_file import SavedInstance
from .tmux import SEP, Tmux
from .transcript import project_dir

if TYPE_CHECKING:
    from .app import App

SHELLS = frozenset({"bash", "zsh", "fish", "sh", "dash", "ksh", "tcsh", "csh", "nu", "elvish"})
# the CLI's session choices, and whether they take a value (--resume and -r only
# when one follows: alone they open claude's session picker)
RESUME_FLAGS = {
    "--resume": True,
    "-r": True,
    "--session-id": True,
    "--continue": False,
    "-c": False,
    "--fork-session": False,
    "--from-pr": True,
    "--teleport": True,
}


@dataclass
class Plan:
    """What restore does (or did) for one instance."""

    entry: SavedInstance
    action: str  # "restore", "running", "skip"
    resume: str = "fresh"  # "resume" or "fresh"
    args: tuple[str, ...] = ()
    reason: str = ""
    reuse_pane: str | None = None
    layout: str = "tabbed"
    session_id: str | None = None  # the Claude session id the relaunch uses

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.entry.name,
            "id": self.entry.id,
            "cwd": self.entry.cwd,
            "action": self.action,
            "resume": self.resume if self.action == "restore" else None,
            "session_id": self.session_id if self.action == "restore" else None,
            "args": list(self.args),
            "reason": self.reason,
            "layout": self.layout,
            "pane": self.reuse_pane,
        }


def without_resume_flags(args: list[str]) -> list[str]:
    """Claude arguments minus any session choice of an earlier launch."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            if not arg.startswith("-"):
                continue
        name = arg.split("=", 1)[0]
        if name in RESUME_FLAGS:
            skip = RESUME_FLAGS[name] and "=" not in arg
            continue
        out.append(arg)
    return out


def choose_resume(
    entry: SavedInstance, held_by: str | None = None
) -> tuple[str, tuple[str, ...], str, str]:
    """(how, extra claude args, why, session id) for relaunching ``entry``.

    ``held_by`` names another instance that keeps ``entry``'s session id: then
    this one starts a new session. Nothing recorded is used unchecked.
    """
    recorded = entry.session_id
    if recorded is None:
        why = "no Claude session was recorded"
    elif not is_session_id(recorded):
        why = f"the recorded session id {str(recorded)[:60]!r} is not a UUID and was refused"
    elif held_by is not None:
        why = f"session {recorded} is recorded for {held_by!r} too, which keeps it"
    else:
        transcript, note = transcript_of(entry, recorded)
        if os.path.isfile(transcript):
            return "resume", (f"--resume={recorded}",), f"session {recorded}{note}", recorded
        why = (
            f"session {recorded} has no transcript (never prompted, or removed){note}; "
            "starting it afresh under the same id"
        )
        return "fresh", (f"--session-id={recorded}",), why, recorded
    session_id = new_session_id()
    return "fresh", (f"--session-id={session_id}",), f"{why}; starting a new session", session_id


def transcript_of(entry: SavedInstance, session_id: str) -> tuple[str, str]:
    """Where the transcript of ``session_id`` is, and a note when the recorded path was refused."""
    if entry.transcript is None or trusted_transcript(entry.transcript, session_id):
        default = os.path.join(project_dir(entry.cwd), f"{session_id}.jsonl")
        return entry.transcript or default, ""
    refused = f" (the recorded transcript path {str(entry.transcript)[:120]!r} was refused)"
    return os.path.join(project_dir(entry.cwd), f"{session_id}.jsonl"), refused


def session_holders(instances: list[Instance]) -> dict[str, str]:
    """Session id → the one instance that keeps it when several claim it.

    A running instance first, then the oldest entry; the others start afresh.
    """

    def rank(instance: Instance) -> tuple[bool, float]:
        created = instance.created
        return (not instance.running, created if isinstance(created, int | float) else 0.0)

    holders: dict[str, str] = {}
    for instance in sorted(instances, key=rank):
        session_id = instance.saved.session_id if instance.saved else None
        if isinstance(session_id, str) and is_session_id(session_id):
            holders.setdefault(session_id.lower(), instance.id)
    return holders


def _bare_shells(tmux: Tmux) -> list[tuple[str, str, str]]:
    """(pane id, window name, cwd) of shell panes that are not instances."""
    fmt = SEP.join(
        [
            "#{pane_id}",
            "#{window_name}",
            "#{pane_current_command}",
            "#{@tclaude-port}",
            "#{pane_current_path}",
        ]
    )
    out = tmux.run("list-panes", "-a", "-F", fmt, check=False)
    shells: list[tuple[str, str, str]] = []
    for line in out.splitlines():
        parts = line.split(SEP, 4)
        if any(shell[0] == parts[0] for shell in shells):
            continue  # a pane listed again, in a view of its session (views.py)
        if len(parts) == 5 and not parts[3] and parts[2] in SHELLS:
            shells.append((parts[0], parts[1], os.path.realpath(parts[4])))
    return shells


def plan(registry: Registry, names: list[str] | None = None) -> list[Plan]:
    """What restoring would do, changing nothing."""
    instances = registry.instances()
    chosen = [registry.resolve(name, instances) for name in names] if names else instances
    holders = session_holders(instances)
    names_by_id = {i.id: i.name for i in instances}
    shells = _bare_shells(registry.tmux) if any(not i.running for i in chosen) else []
    plans: list[Plan] = []
    for instance in chosen:
        entry = instance.saved
        if entry is None:
            continue  # a running pane without a state entry: nothing to restore from
        layout = "tabbed" if entry.layout == "beside" else entry.layout
        if instance.running:
            plans.append(Plan(entry, "running", reason="running already", layout=entry.layout))
            continue
        if not os.path.isdir(entry.cwd):
            reason = f"{entry.cwd} is gone; `tclaude prune` forgets it"
            plans.append(Plan(entry, "skip", reason=reason, layout=layout))
            continue
        holder = holders.get(str(entry.session_id).lower())
        held_by = names_by_id.get(holder) if holder not in (None, entry.id) else None
        how, args, why, session_id = choose_resume(entry, held_by)
        if entry.layout == "beside":
            why += "; its editor pane is gone, so it gets a window of its own"
        reuse = None
        for shell in shells:
            pane_id, window_name, cwd = shell
            if cwd == entry.cwd and window_name in (entry.name, "tclaude"):
                reuse = pane_id
                shells.remove(shell)
                why += f"; reusing the shell tmux-resurrect left in {pane_id}"
                break
        plans.append(Plan(entry, "restore", how, args, why, reuse, layout, session_id))
    return plans


def stale_lock_files() -> list[str]:
    """Lock files of ours (``tclaude:`` IDE names) whose host pid is dead."""
    stale = []
    for path in glob.glob(os.path.join(paths.lock_dir(), "*.lock")):
        data = lockfile.read(path)
        if (
            data
            and str(data.get("ideName", "")).startswith("tclaude:")
            and not pid_alive(data.get("pid"))
        ):
            stale.append(path)
    return stale


def dead_host_files() -> list[str]:
    """Runtime records of dead hosts, with their sockets, settings and hook URL files."""
    dead = []
    for path in glob.glob(os.path.join(paths.runtime_dir(), "*.json")):
        if path.endswith((".settings.json", "config-cache.json")):
            continue
        data = lockfile.read(path)
        if data is None or "pid" not in data or pid_alive(data.get("pid")):
            continue
        instance_id = os.path.basename(path)[: -len(".json")]
        dead += [
            leftover
            for leftover in runtime_files.leftovers(instance_id)
            if os.path.exists(leftover)
        ]
    return dead


def sweep_stale() -> list[str]:
    """Remove what dead hosts left; return the paths removed."""
    removed = stale_lock_files() + dead_host_files()
    for path in removed:
        paths.remove_quietly(path)
    return removed


def pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def relaunch(app: App, plans: list[Plan]) -> int:
    """Spawn the instances that ``plans`` restore; how many failed (their plans say why).

    Each entry's session id is recorded before its pane is spawned, like ``new``.
    """
    from .spawn import Spawner, SpawnRequest

    failed = 0
    spawner = Spawner(app.config, app.tmux, app.state)
    for item in plans:
        if item.action != "restore":
            continue
        entry = item.entry
        request = SpawnRequest(
            cwd=entry.cwd,
            name=entry.name,
            layout=item.layout,
            detached=True,
            instance_id=entry.id,
            session=entry.session or app.config.session_name,
            extra_args=list(item.args),
            respawn_pane=item.reuse_pane,
        )
        entry.claude_args = without_resume_flags(entry.claude_args)
        kept = item.session_id == entry.session_id
        app.state.update(
            entry.id,
            claude_args=entry.claude_args,
            layout=item.layout,
            session_id=item.session_id,
            session_source=entry.session_source if kept else None,
            transcript=entry.transcript
            if kept and trusted_transcript(entry.transcript, item.session_id)
            else None,
        )
        try:
            spawner.spawn(request)
        except TclaudeError as err:
            item.action, item.reason = "failed", str(err)
            failed += 1
    return failed
