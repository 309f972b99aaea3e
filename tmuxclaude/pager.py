"""Text through the user's pager, as git shows it: the same pager, the same colours."""

from __future__ import annotations

import os
import subprocess
import sys

RESET = "\033[m"
COLOURS = {"+": "\033[32m", "-": "\033[31m", "@": "\033[36m", "header": "\033[1m"}


def use_colour() -> bool:
    """Colours when stdout is a terminal and ``NO_COLOR`` is unset."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def colour_diff(text: str) -> str:
    """A unified diff with git's default colours: headers bold, hunks cyan, -/+ red/green."""
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\n")
        tail = line[len(body) :]
        if body.startswith(("--- ", "+++ ", "diff ")):
            colour = COLOURS["header"]
        elif body.startswith("@@"):
            colour = COLOURS["@"]
        elif body[:1] in ("+", "-"):
            colour = COLOURS[body[0]]
        else:
            out.append(line)
            continue
        out.append(f"{colour}{body}{RESET}{tail}")
    return "".join(out)


def pager_command(cwd: str | None = None) -> str:
    """The pager git would use: ``$GIT_PAGER``, ``core.pager``, ``$PAGER``, else ``less``."""
    try:
        found = subprocess.run(
            ["git", "var", "GIT_PAGER"],
            capture_output=True,
            text=True,
            cwd=cwd,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        found = None
    if found is not None and found.returncode == 0 and found.stdout.strip():
        return found.stdout.strip()
    return os.environ.get("GIT_PAGER") or os.environ.get("PAGER") or "less"


def page(text: str, cwd: str | None = None) -> None:
    """Show ``text`` in the pager when stdout is a terminal, else print it.

    Like git: ``LESS=FRX`` unless set (one screen: no pager stays open; colours pass).
    """
    command = pager_command(cwd) if sys.stdout.isatty() else "cat"
    if command in ("cat", ""):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    env.setdefault("LV", "-c")
    sys.stdout.flush()
    try:
        with subprocess.Popen(["sh", "-c", command], stdin=subprocess.PIPE, env=env) as pager:
            assert pager.stdin is not None
            try:
                pager.stdin.write(text.encode())
                pager.stdin.close()
            except BrokenPipeError:  # the user quit the pager before the end
                pass
    except OSError:
        sys.stdout.write(text)
        sys.stdout.flush()
