"""Print a shell completion script: subcommands, their flags, and instance names.

Instance names come from one `tmux list-panes` call made by the script itself,
no Python: `tclaude switch <Tab>` answers at the speed of tmux. The tmux socket
is $TCLAUDE_TMUX_SOCKET, else the tmux_socket setting as it was when the script
was printed, else the caller's tmux ($TMUX) or the default server.

examples:
  eval "$(tclaude completion bash)"              in ~/.bashrc
  source <(tclaude completion zsh)               in ~/.zshrc, after compinit
  tclaude completion fish > ~/.config/fish/completions/tclaude.fish
"""

from __future__ import annotations

import argparse
import importlib
import shlex
from dataclasses import dataclass, field

SHELLS = ("bash", "zsh", "fish")
# the positional arguments that name an instance
INSTANCE_ARGS = frozenset({"target", "targets", "old", "names"})
NAMES = "list-panes -a -f '#{@tclaude-port}' -F '#{@tclaude-name}'"


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("shell", choices=SHELLS)


@dataclass
class Command:
    name: str
    summary: str
    flags: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # fixed choices of its arguments
    instances: bool = False  # takes instance names


def commands() -> list[Command]:
    """Every subcommand as its own parser sees it (all modules imported: not a hot path),
    with ``--on`` where the verb takes it; hidden options (``argparse.SUPPRESS``) left out."""
    from . import COMMANDS, REMOTE_VERBS

    found = []
    for name, (module_name, summary) in COMMANDS.items():
        if name == "host":  # what an instance's pane runs, not for people
            continue
        module = importlib.import_module(f"{__package__}.{module_name}")
        parser = argparse.ArgumentParser(prog=f"tclaude {name}", add_help=True)
        module.add_arguments(parser, name)
        command = Command(name, summary)
        if name in REMOTE_VERBS:
            command.flags.append("--on")
        for action in parser._actions:
            command.flags += _shown(action)
            if isinstance(action, argparse._SubParsersAction):
                command.words += list(action.choices)
                for child in action.choices.values():
                    for sub in child._actions:
                        command.flags += _shown(sub)
            elif not action.option_strings:
                command.words += [str(c) for c in action.choices or ()]
                command.instances |= action.dest in INSTANCE_ARGS
        command.flags = sorted(set(command.flags))
        found.append(command)
    return found


def _shown(action: argparse.Action) -> list[str]:
    """The long options of ``action`` that ``--help`` shows."""
    if action.help == argparse.SUPPRESS:
        return []
    return [o for o in action.option_strings if o.startswith("--")]


def _socket() -> str:
    from ..app import App

    return App.load().config.tmux_socket or ""


def bash(cmds: list[Command], socket: str) -> str:
    cases = "\n".join(
        f"    {c.name}) flags={shlex.quote(' '.join(c.flags))}"
        f" words={shlex.quote(' '.join(c.words))} names={int(c.instances)} ;;"
        for c in cmds
    )
    return f"""# tclaude completion for bash: eval "$(tclaude completion bash)"
_tclaude_names() {{
  local socket=${{TCLAUDE_TMUX_SOCKET:-{shlex.quote(socket)}}}
  tmux ${{socket:+-L "$socket"}} {NAMES} 2>/dev/null
}}
_tclaude() {{
  local cur=${{COMP_WORDS[COMP_CWORD]}} flags= words= names=0
  COMPREPLY=()
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W {shlex.quote(" ".join(c.name for c in cmds))} -- "$cur"))
    return
  fi
  case ${{COMP_WORDS[1]}} in
{cases}
  esac
  case $cur in
    -*) COMPREPLY=($(compgen -W "$flags" -- "$cur")) ;;
    *)
      [ "$names" = 1 ] && words="$words $(_tclaude_names)"
      COMPREPLY=($(compgen -W "$words" -- "$cur")) ;;
  esac
}}
complete -F _tclaude tclaude
"""


def zsh(cmds: list[Command], socket: str) -> str:
    described = " ".join(shlex.quote(f"{c.name}:{c.summary}") for c in cmds)
    cases = "\n".join(
        f"    {c.name}) flags=({' '.join(c.flags)}); choices=({' '.join(c.words)});"
        f" names={int(c.instances)} ;;"
        for c in cmds
    )
    return f"""#compdef tclaude
# tclaude completion for zsh: source <(tclaude completion zsh), after compinit
_tclaude_names() {{
  local socket=${{TCLAUDE_TMUX_SOCKET:-{shlex.quote(socket)}}}
  tmux ${{socket:+-L}} $socket {NAMES} 2>/dev/null  # zsh drops an empty $socket
}}
_tclaude() {{
  local -a flags choices commands
  local names=0
  if (( CURRENT == 2 )); then
    commands=({described})
    _describe command commands
    return
  fi
  case ${{words[2]}} in
{cases}
  esac
  if [[ $PREFIX == -* ]]; then
    compadd -- $flags
  else
    (( names )) && choices+=(${{(f)"$(_tclaude_names)"}})
    compadd -- $choices
  fi
}}
compdef _tclaude tclaude
"""


def fish(cmds: list[Command], socket: str) -> str:
    lines = [
        "# tclaude completion for fish: tclaude completion fish | source",
        "function __tclaude_names",
        f"    set -l socket {shlex.quote(socket)}",
        "    set -q TCLAUDE_TMUX_SOCKET; and set socket $TCLAUDE_TMUX_SOCKET",
        '    if test -n "$socket"',
        f"        tmux -L $socket {NAMES} 2>/dev/null",
        "    else",
        f"        tmux {NAMES} 2>/dev/null",
        "    end",
        "end",
        "complete -c tclaude -f",
    ]
    for c in cmds:
        lines.append(
            f"complete -c tclaude -n __fish_use_subcommand -a {c.name} -d {shlex.quote(c.summary)}"
        )
        seen = f"'__fish_seen_subcommand_from {c.name}'"
        lines += [f"complete -c tclaude -n {seen} -l {flag[2:]}" for flag in c.flags]
        if c.words:
            lines.append(f"complete -c tclaude -n {seen} -a {shlex.quote(' '.join(c.words))}")
        if c.instances:
            lines.append(f"complete -c tclaude -n {seen} -a '(__tclaude_names)'")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    make = {"bash": bash, "zsh": zsh, "fish": fish}[args.shell]
    print(make(commands(), _socket()), end="")
    return 0
