"""Check what tclaude needs: tmux, claude, directories, stale files, config.

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

from .app import add_json_flag


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    add_json_flag(parser)


def _version(argv: list[str]) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=15, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout or out.stderr).strip().splitlines()[0] if out.returncode == 0 else None


def checks() -> list[tuple[str, str, str]]:
    from .. import config, paths, restore
    from ..errors import ConfigError

    results: list[tuple[str, str, str]] = []
    tmux = shutil.which("tmux")
    version = _version([tmux, "-V"]) if tmux else None
    if version is None:
        results.append(("FAIL", "tmux", "not found: install tmux 3.2 or later (apt install tmux)"))
    else:
        number = version.split()[-1].rstrip("abcdefgh")
        major, _, minor = number.partition(".")
        ok = (
            (int(major), int(minor or 0)) >= (3, 2) if major.isdigit() and minor.isdigit() else True
        )
        results.append(
            ("OK" if ok else "WARN", "tmux", version if ok else f"{version}: 3.2+ advised")
        )
    try:
        cfg = config.load()
        results.append(("OK", "config", paths.config_file()))
    except ConfigError as err:
        results.append(("FAIL", "config", str(err)))
        cfg = config.Config()
    program = (shlex.split(cfg.claude_command) or ["claude"])[0]
    claude = shutil.which(program)
    if claude is None:
        results.append(
            (
                "FAIL",
                "claude",
                f"{program!r} not found: npm install -g @anthropic-ai/claude-code, "
                "or set claude_command",
            )
        )
    else:
        results.append(
            ("OK", "claude", f"{claude} ({_version([claude, '--version']) or 'version unknown'})")
        )
        results.append(claude_version_check(cfg.claude_command))
    lock_dir = paths.lock_dir()
    if os.path.isdir(lock_dir):
        mode = os.stat(lock_dir).st_mode & 0o777
        status = "OK" if mode & 0o077 == 0 else "WARN"
        results.append(
            (
                status,
                "lock dir",
                f"{lock_dir} ({oct(mode)})" + ("" if status == "OK" else ": chmod 700 it"),
            )
        )
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
    else:
        results.append(("OK", "lock dir", f"{lock_dir} (created on first start)"))
    runtime = paths.runtime_dir()
    if os.path.isdir(runtime):
        mode = os.stat(runtime).st_mode & 0o777
        results.append(
            ("OK" if mode & 0o077 == 0 else "WARN", "runtime dir", f"{runtime} ({oct(mode)})")
        )
        dead = [os.path.basename(p) for p in restore.dead_host_files() if p.endswith(".json")]
        if dead:
            results.append(
                (
                    "WARN",
                    "stale records",
                    f"{', '.join(dead)} belong to dead hosts (safe to delete)",
                )
            )
    else:
        results.append(("OK", "runtime dir", f"{runtime} (created on first start)"))
    results.append(("OK", "state dir", paths.state_dir()))
    inside = bool(os.environ.get("TMUX"))
    results.append(
        (
            "OK",
            "tmux session",
            "inside tmux: instances go beside you"
            if inside
            else f"outside tmux: instances go to session {cfg.session_name!r}",
        )
    )
    return results


def claude_version_check(claude_command: str) -> tuple[str, str, str]:
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
