"""Check what tclaude needs: tmux, claude, directories, stale files, config.

It also checks the modes of tclaude's directories and files, that the
state file reads, and that no secret (an IDE or hook token, a secret-looking
environment variable) shows in the command line of tmux, a host or claude.

Each line is OK, WARN or FAIL with what to do; the exit code is 1 when
anything failed.

example:
  tclaude doctor
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys

from .. import paths
from .flags import add_json_flag


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    add_json_flag(parser)


def _version(argv: list[str]) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=15, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout or out.stderr).strip().splitlines()[0] if out.returncode == 0 else None


Result = tuple[str, str, str]  # status, check, detail


def checks() -> list[Result]:
    """Every check, in the order shown; each is a small function of its own."""
    from .. import config
    from ..errors import ConfigError

    # the modes first: loading the config writes its cache, which tightens the runtime dir
    dirs = [*lock_dir_checks(), *runtime_dir_checks(), *state_checks()]
    results: list[Result] = [tmux_check()]
    try:
        cfg = config.load()
        file = paths.config_file()
        results.append(
            ("OK", "config", file if os.path.exists(file) else f"{file} (none; defaults)")
        )
    except ConfigError as err:
        results.append(("FAIL", "config", str(err)))
        # check on with what the environment names, rather than defaults it overrides
        cfg = config.Config(
            claude_command=os.environ.get("TCLAUDE_CLAUDE_COMMAND") or "claude",
            tmux_socket=os.environ.get("TCLAUDE_TMUX_SOCKET") or None,
        )
    results.append(claude_check(cfg.claude_command))
    results.append(claude_version_check(cfg.claude_command))
    results += dirs
    results.append(argv_secrets_check(cfg.tmux_socket))
    results.append(session_check(cfg.session_name))
    return results


def tmux_check() -> Result:
    tmux = shutil.which("tmux")
    version = _version([tmux, "-V"]) if tmux else None
    if version is None:
        return ("FAIL", "tmux", "not found: install tmux 3.2 or later (apt install tmux)")
    number = version.split()[-1].rstrip("abcdefgh")
    major, _, minor = number.partition(".")
    ok = (int(major), int(minor or 0)) >= (3, 2) if major.isdigit() and minor.isdigit() else True
    return ("OK" if ok else "WARN", "tmux", version if ok else f"{version}: 3.2+ advised")


def claude_check(claude_command: str) -> Result:
    program = (shlex.split(claude_command) or ["claude"])[0]
    claude = shutil.which(program)
    if claude is None:
        return (
            "FAIL",
            "claude",
            f"{program!r} not found: npm install -g @anthropic-ai/claude-code, "
            "or set claude_command",
        )
    return ("OK", "claude", f"{claude} ({_version([claude, '--version']) or 'version unknown'})")


def dir_mode_checks(check: str, directory: str) -> list[Result]:
    """The directory's owner and mode, and its files that others can read or write."""
    try:
        st = os.stat(directory)
    except FileNotFoundError:
        return [("OK", check, f"{directory} (created on first use)")]
    except OSError as exc:
        return [("FAIL", check, f"{directory}: {exc.strerror}")]
    mode = st.st_mode & 0o777
    if st.st_uid != os.getuid():
        return [
            (
                "FAIL",
                check,
                f"{directory} belongs to another user (uid {st.st_uid}): tclaude refuses it; "
                "remove it or point tclaude elsewhere",
            )
        ]
    results: list[Result] = []
    if mode & 0o077:
        results.append(("WARN", check, f"{directory} ({oct(mode)}): chmod 700 {directory}"))
    else:
        results.append(("OK", check, f"{directory} ({oct(mode)})"))
    loose: list[str] = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                info = entry.stat(follow_symlinks=False)
                if not entry.is_dir(follow_symlinks=False) and info.st_mode & 0o077:
                    loose.append(f"{entry.name} ({oct(info.st_mode & 0o777)})")
    except OSError as exc:
        return [*results, ("WARN", f"{check} files", f"cannot list {directory}: {exc.strerror}")]
    if loose:
        results.append(
            (
                "WARN",
                f"{check} files",
                f"others can read or write {', '.join(sorted(loose))}: chmod 600 them",
            )
        )
    else:
        results.append(("OK", f"{check} files", "private (0600 or stricter)"))
    return results


def lock_dir_checks() -> list[Result]:
    from .. import restore

    lock_dir = paths.lock_dir()
    results = dir_mode_checks("lock dir", lock_dir)
    if os.path.isdir(lock_dir):
        stale = restore.stale_lock_files()
        if stale:
            results.append(
                (
                    "WARN",
                    "stale locks",
                    f"{len(stale)} of ours with a dead pid: {', '.join(stale)} (safe to delete)",
                )
            )
        else:
            results.append(("OK", "stale locks", "none"))
    return results


def runtime_dir_checks() -> list[Result]:
    from .. import restore

    runtime = paths.runtime_dir()
    results = dir_mode_checks("runtime dir", runtime)
    if os.path.isdir(runtime):
        dead = [os.path.basename(p) for p in restore.dead_host_files() if p.endswith(".json")]
        if dead:
            results.append(
                (
                    "WARN",
                    "stale records",
                    f"{', '.join(dead)} belong to dead hosts (safe to delete)",
                )
            )
    return results


def claude_version_check(claude_command: str) -> Result:
    """The claude version row: OK inside the supported range, else WARN saying which side."""
    from .. import claude_version

    binary, version = claude_version.of_command(claude_command)
    supported = f"supported {claude_version.OLDEST} to {claude_version.NEWEST}"
    if version is None:
        return ("WARN", "claude version", f"{binary or claude_command}: no version ({supported})")
    problem = claude_version.support_problem(version)
    if problem is not None:
        return ("WARN", "claude version", problem)
    return ("OK", "claude version", f"{claude_version.show(version)} ({supported})")


def state_checks() -> list[Result]:
    """The state dir's modes and whether its state file reads."""
    from ..errors import StateFileError
    from ..state_file import StateFile

    state = StateFile()
    results = dir_mode_checks("state dir", state.directory)
    try:
        count = len(state.read())
    except StateFileError as err:
        results.append(("FAIL", "state file", str(err)))
    except OSError as exc:
        results.append(("FAIL", "state file", f"{state.path}: {exc.strerror or exc}"))
    else:
        results.append(("OK", "state file", f"{state.path} ({count} instance(s))"))
    return results


def session_check(session_name: str) -> Result:
    inside = bool(os.environ.get("TMUX"))
    return (
        "OK",
        "tmux session",
        "inside tmux: instances go beside you"
        if inside
        else f"outside tmux: instances go to session {session_name!r}",
    )


SECRET_NAME_PARTS = ("TOKEN", "SECRET", "PASSWORD")
MIN_SECRET = 8


def known_secrets() -> list[tuple[str, str]]:
    """(where it comes from, value): our IDE tokens, hook tokens, secret-looking env vars."""
    import glob
    import json

    found: list[tuple[str, str]] = []
    for path in glob.glob(os.path.join(paths.lock_dir(), "*.lock")):
        try:
            with open(path, encoding="utf-8") as handle:
                lock = json.load(handle)
        except (OSError, ValueError):
            continue
        token = lock.get("authToken") if isinstance(lock, dict) else None
        if isinstance(token, str) and len(token) >= MIN_SECRET:
            found.append((f"the IDE token of {os.path.basename(path)}", token))
    for path in glob.glob(os.path.join(paths.runtime_dir(), "*.settings.json")):
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError:
            continue
        for url in _hook_urls(text):
            parts = url.replace("?", "/").replace("=", "/").split("/")
            where = f"the hook token in {os.path.basename(path)}"
            found += [(where, part) for part in parts if len(part) >= 16 and ":" not in part]
    for name, value in os.environ.items():
        upper = name.upper()
        secretish = upper.endswith("_API_KEY") or any(p in upper for p in SECRET_NAME_PARTS)
        if secretish and len(value) >= MIN_SECRET:
            found.append((f"${name}", value))
    return found


def _hook_urls(text: str) -> list[str]:
    import re

    return re.findall(r"https?://[^\s\"']+", text)


def instance_pids(tmux_socket: str | None) -> list[int]:
    """The tmux server, every instance host and all their descendants."""
    from .. import proctree
    from ..errors import TclaudeError
    from ..tmux import Tmux

    tmux = Tmux(tmux_socket)
    server: list[int] = []
    hosts: list[int] = []
    try:
        if tmux.is_running():
            server.append(int(tmux.display("#{pid}")))
        hosts = [pane.host_pid or pane.pane_pid for pane in tmux.instance_panes()]
    except (TclaudeError, ValueError):
        pass
    # the server alone: its other children are the user's own panes
    seen: set[int] = set(server)
    for host in (p for p in hosts if p > 0):
        seen.add(host)
        seen.update(proctree.descendants(host))
    return sorted(seen)


def argv_secrets_check(tmux_socket: str | None) -> Result:
    """A secret in the command line of tmux, a host or its descendants (never printed)."""
    secrets = known_secrets()
    pids = instance_pids(tmux_socket)
    leaks: list[str] = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                argv = handle.read().decode("utf-8", "replace")
        except OSError:
            continue
        program = os.path.basename(argv.split("\0", 1)[0])
        leaks += [f"{where} in pid {pid} ({program})" for where, value in secrets if value in argv]
    if leaks:
        return (
            "FAIL",
            "argv secrets",
            f"{'; '.join(leaks)}: any local user can read these; "
            "pass secrets through the environment or a 0600 file",
        )
    return ("OK", "argv secrets", f"none in the command lines of {len(pids)} process(es)")


def run(args: argparse.Namespace) -> int:
    from .output import print_json

    results = checks()
    if args.json:
        print_json([{"status": s, "check": c, "detail": d} for s, c, d in results])
    else:
        for status, check, detail in results:
            print(f"{status:<4} {check:<13} {detail}")
    return 1 if any(s == "FAIL" for s, _, _ in results) else 0


if __name__ == "__main__":
    sys.exit(run(argparse.Namespace(json=False)))
