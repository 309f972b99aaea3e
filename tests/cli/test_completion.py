"""`tclaude completion bash|zsh|fish`: each script run by its own shell, for real."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import Tclaude


@pytest.fixture
def two(tclaude: Tclaude, tmp_path: Path) -> Tclaude:
    for name in ("api", "docs"):
        tclaude.run("new", "--name", name, "--cwd", str(tmp_path), "--detached")
    return tclaude


def _script(tclaude: Tclaude, shell: str, tmp_path: Path) -> Path:
    path = tmp_path / f"tclaude.{shell}"
    path.write_text(tclaude.run("completion", shell).stdout)
    return path


def _bash(script: Path, line: str) -> list[str]:
    words = line.split(" ")
    program = (
        f"source {script}; COMP_WORDS=({' '.join(repr(w) for w in words)}); "
        f"COMP_CWORD={len(words) - 1}; _tclaude; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    )
    out = subprocess.run(["bash", "--norc", "-c", program], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return sorted(out.stdout.split())


def test_bash_completes_commands_flags_choices_and_names(two: Tclaude, tmp_path: Path) -> None:
    script = _script(two, "bash", tmp_path)
    assert "python" not in script.read_text() and "tclaude " not in script.read_text().replace(
        "tclaude completion", ""
    ).replace("complete -F _tclaude tclaude", "")
    assert _bash(script, "tclaude sw") == ["switch"]
    assert _bash(script, "tclaude switch ") == ["api", "docs"]
    assert _bash(script, "tclaude kill api d") == ["docs"]
    assert _bash(script, "tclaude new --reu") == ["--reuse"]
    assert _bash(script, "tclaude switch --") == [
        "--client", "--done", "--help", "--on", "--waiting"
    ]  # fmt: skip
    assert _bash(script, "tclaude layout ") == ["beside", "split", "tabbed"]
    assert _bash(script, "tclaude completion ") == ["bash", "fish", "zsh"]
    assert _bash(script, "tclaude list ") == []


def test_completion_offers_on_and_never_a_hidden_option(two: Tclaude, tmp_path: Path) -> None:
    """--on was never offered; list's hidden --remote-envelope was."""
    script = _script(two, "bash", tmp_path)
    assert _bash(script, "tclaude broadcast --o") == ["--on"]
    assert _bash(script, "tclaude list --") == ["--fresh", "--help", "--json", "--on"]
    assert "--on" not in _bash(script, "tclaude pick --")  # not a remote verb
    for shell in ("zsh", "fish"):
        text = two.run("completion", shell).stdout
        assert "remote-envelope" not in text and "--on" in text.replace("-l on", "--on"), shell


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completes_commands_flags_and_names(two: Tclaude, tmp_path: Path) -> None:
    script = _script(two, "zsh", tmp_path)

    def complete(*words: str, prefix: str = "") -> list[str]:
        # the completion system's builtins stubbed to print what they are given
        program = (
            "compdef() { :; }; compadd() { [[ $1 == -- ]] && shift; print -l -- $@; }; "
            "_describe() { print -l -- ${(P)2%%:*}; }; "
            f"source {script}; words=({' '.join(words)} {prefix!r}); "
            f"CURRENT=$#words; PREFIX={prefix!r}; _tclaude"
        )
        out = subprocess.run(["zsh", "-f", "-c", program], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return sorted(w for w in out.stdout.split() if w.startswith(prefix))

    assert "switch" in complete("tclaude")
    assert complete("tclaude", "switch") == ["api", "docs"]
    assert complete("tclaude", "new", prefix="--reu") == ["--reuse"]
    assert complete("tclaude", "layout") == ["beside", "split", "tabbed"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_commands_flags_and_names(two: Tclaude, tmp_path: Path) -> None:
    script = _script(two, "fish", tmp_path)

    def complete(line: str) -> list[str]:
        program = f"source {script}; complete -C {line!r}"
        out = subprocess.run(["fish", "--no-config", "-c", program], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return sorted(row.split("\t")[0] for row in out.stdout.splitlines())

    assert "switch" in complete("tclaude sw")
    assert complete("tclaude switch ") == ["api", "docs"]
    assert complete("tclaude new --reu") == ["--reuse"]
    assert complete("tclaude layout ") == ["beside", "split", "tabbed"]


def test_completion_needs_a_known_shell(tclaude: Tclaude) -> None:
    bad = tclaude.run("completion", "tcsh", check=False)
    assert bad.returncode == 2 and "invalid choice: 'tcsh'" in bad.stderr
