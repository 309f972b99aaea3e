"""``tclaude``: the command line. Thin: parse, call the package, print.

Only the subcommand that runs is imported, so that ``tclaude list`` does not
pay for what ``tclaude new`` needs. Each subcommand module has
``add_arguments(parser, name)`` and ``run(args) -> int``, and may have
``parse(parser, argv)`` to parse for itself.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

TYPE_CHECKING = False  # not typing's: the CLI starts without importing typing
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import NoReturn

# name -> (module, one-line summary); the order is the order of --help
COMMANDS: dict[str, tuple[str, str]] = {
    "new": ("new", "start an instance in a tmux window or pane"),
    "list": ("list_cmd", "list the instances and their state"),
    "switch": ("switch", "focus an instance (name, id, or - for the previous one)"),
    "next": ("switch", "focus the next instance"),
    "prev": ("switch", "focus the previous instance"),
    "attach": ("attach", "attach to the instances' tmux session"),
    "kill": ("kill", "stop instances and remove everything they left"),
    "rename": ("rename", "rename an instance"),
    "layout": ("layout", "arrange the instances as tabs (windows) or split panes"),
    "send": ("send", "send an at-mention or text to an instance"),
    "broadcast": ("send", "send text to every running instance"),
    "status": ("status_cmd", "show one instance's host status and usage"),
    "peek": ("peek", "print an instance's screen without attaching"),
    "log": ("log_cmd", "print the last turns of an instance's conversation"),
    "review": ("review", "accept, edit or reject an instance's pending edits; comment back"),
    "diff": ("diff_cmd", "print the git diff of an instance's working tree"),
    "history": ("history_cmd", "search every Claude Code conversation (prompts and replies)"),
    "wait": ("wait", "wait until an instance reaches a state (idle, waiting, ...)"),
    "watch": ("watch", "stream instance events (created, state changed, killed) as they happen"),
    "pick": ("pick", "choose an instance in a full-screen picker (for display-popup)"),
    "menu": ("menu", "choose an instance from a tmux menu"),
    "worktree": ("worktree", "git worktrees and their instances: list, sync"),
    "restore": ("restore", "bring instances back after tmux or the machine restarted"),
    "prune": ("prune", "forget stopped or stale instances"),
    "config": ("config_cmd", "print the effective configuration and where each value came from"),
    "remote": ("remote_cmd", "SSH remotes: add, list, check, remove, install"),
    "doctor": ("doctor", "check tmux, claude, directories and stale files"),
    "completion": ("completion", "print a completion script for bash, zsh or fish"),
    "host": ("host", "run one instance host (what an instance's pane runs)"),
}
# commands that --help does not list (started by tclaude itself)
HIDDEN: dict[str, str] = {"watch-remotes": "watch_remotes", "seen": "seen"}

# verbs that take --on REMOTE or a REMOTE:instance target (cli/remote_verbs.py)
REMOTE_VERBS = frozenset(
    ("new", "list", "status", "send", "broadcast", "kill", "restore", "worktree", "wait",
     "peek", "log", "switch", "attach")
)  # fmt: skip

EPILOG = """examples:
  tclaude                      focus (or create) the instance for this directory
  tclaude new --name api       start an instance named api in the current directory
  tclaude list --json          every instance as JSON
  tclaude switch api           jump to it
  tclaude kill --all           stop everything, leave nothing behind
"""


def _columns() -> int:
    """``shutil.get_terminal_size().columns``, without importing shutil (~2 ms)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's, with the width found without ``shutil``: argparse makes a formatter
    for every ``add_argument``, and its default imports shutil to ask the terminal."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(
            prog, indent_increment, max_help_position, _columns() - 2 if width is None else width
        )


class RawTextHelpFormatter(HelpFormatter, argparse.RawTextHelpFormatter):
    pass


class Parser(argparse.ArgumentParser):
    """A usage error in one line, as every other error: the usage is a ``--help`` away."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _root_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="tclaude",
        description="Run many Claude Code sessions side by side in tmux.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    from .. import VERSION

    parser.add_argument("--version", action="version", version=f"tclaude {VERSION}")
    lines = "\n".join(f"  {name:<10} {summary}" for name, (_, summary) in COMMANDS.items())
    parser.add_argument("command", nargs="?", help="one of:\n" + lines)
    parser.formatter_class = RawTextHelpFormatter
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from ..errors import TclaudeError

    if os.environ.get("TCLAUDE_DEBUG"):  # every tmux argv on stderr; logging only then
        import logging

        logging.basicConfig(level=logging.DEBUG, format="tclaude: %(name)s: %(message)s")

    if not args or (args[0] not in COMMANDS and args[0] not in HIDDEN):
        if args and not args[0].startswith("-"):
            print(f"tclaude: unknown command {args[0]!r}; see tclaude --help", file=sys.stderr)
            return 2
        if args:
            _root_parser().parse_args(args)  # --help / --version exit here
        args = ["__default__"]
    name = args[0]
    module_name = COMMANDS[name][0] if name in COMMANDS else HIDDEN.get(name, "default")
    module = importlib.import_module(f"{__name__}.{module_name}")
    parser = Parser(
        prog="tclaude" if name == "__default__" else f"tclaude {name}",
        description=module.__doc__,
        formatter_class=HelpFormatter,
    )
    module.add_arguments(parser, name)
    rest, on = args[1:], None
    if name in REMOTE_VERBS:
        parser.add_argument("--on", metavar="REMOTE", help="run it on this remote (tclaude remote)")
    try:
        if name in REMOTE_VERBS:
            rest, on = _take_on(rest)
        # a module may parse for itself (cli/worktree.py: a default subcommand)
        parse = getattr(module, "parse", None)
        namespace = parse(parser, rest) if parse else parser.parse_args(rest)
        namespace.command = name
        if on is not None or (name in REMOTE_VERBS and _has_remote_target(namespace)):
            from .remote_verbs import run_on

            return run_on(parser, namespace, rest, on)
        code: int = module.run(namespace)
        return code
    except TclaudeError as err:
        from ..names import printable  # an error may quote a file name or a remote's words

        print(f"tclaude: {printable(str(err), 4000)}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # tclaude list | head
        sys.stderr.close()
        return 0
    except OSError as err:  # a full disk, a directory it may not create: one line, no traceback
        print(f"tclaude: {_os_error(err)}", file=sys.stderr)
        return 1


def _take_on(args: list[str]) -> tuple[list[str], str | None]:
    """``args`` without ``--on NAME`` (or ``--on=NAME``), and NAME; nothing after ``--``.
    A second ``--on`` is refused (TclaudeError): one command per machine."""
    kept: list[str] = []
    given: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            kept += args[index:]
            break
        if arg == "--on" and index + 1 < len(args):
            given.append(args[index + 1])
            index += 2
            continue
        if arg.startswith("--on="):
            given.append(arg[len("--on=") :])
        else:
            kept.append(arg)
        index += 1
    if len(given) > 1:
        from ..errors import TclaudeError

        names = ", ".join(repr(name[:60]) for name in given)
        raise TclaudeError(f"--on given {len(given)} times ({names}): one command per machine")
    return kept, given[0] if given else None


def _has_remote_target(namespace: argparse.Namespace) -> bool:
    """A target (``target``, ``targets``, restore's ``names``) of the form REMOTE:instance."""
    values: list[object] = [getattr(namespace, "target", None)]
    for key in ("targets", "names"):
        values += getattr(namespace, key, None) or []
    return any(isinstance(v, str) and ":" in v for v in values)


def _os_error(err: OSError) -> str:
    """``OSError`` in words: what failed and where, without ``[Errno N]``."""
    if err.strerror is None:
        return str(err) or err.__class__.__name__
    where = f": {err.filename}" if err.filename else ""
    return f"{err.strerror}{where}"
