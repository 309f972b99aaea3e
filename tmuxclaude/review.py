"""Claude's pending edit proposals, as a reviewer outside an editor sees them.

The host holds each ``openDiff`` until someone answers it (``Router.list_diffs``);
this module turns its list into ``Proposal`` objects, diffs them against the
file on disk and lets the user edit one in their own editor.
"""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import TclaudeError
from .names import printable

if TYPE_CHECKING:
    from .app import App
    from .registry import Instance

READ_LIMIT = 64 * 1024 * 1024  # as the host's router.DIGEST_LIMIT: larger files are not read


class NotShown(TclaudeError):
    """The file on disk is not one to read (a FIFO, a device, too large)."""


@dataclass(frozen=True)
class Proposal:
    """One pending diff: Claude wants ``path`` to hold ``contents``."""

    tab_name: str
    path: str
    old_path: str
    contents: str
    age: float
    changed_on_disk: bool

    @classmethod
    def from_json(cls, value: Any) -> Proposal | None:
        """From the host's ``list_diffs`` entry; None when it is not one."""
        if not isinstance(value, dict):
            return None
        tab, new, contents = (
            value.get("tab_name"),
            value.get("new_file_path"),
            value.get("new_file_contents"),
        )
        if not (isinstance(tab, str) and isinstance(new, str) and isinstance(contents, str)):
            return None
        old = value.get("old_file_path")
        age = value.get("age")
        return cls(
            tab_name=tab,
            path=new,
            old_path=old if isinstance(old, str) and old else new,
            contents=contents,
            age=float(age) if isinstance(age, int | float) else 0.0,
            changed_on_disk=value.get("changed_on_disk") is True,
        )

    def on_disk(self) -> str | None:
        """The file as it is now; None when there is none (Claude proposes a new file).

        Raises ``NotShown`` for anything but a regular file of at most
        ``READ_LIMIT`` bytes: a FIFO would block the read, a device never end it.
        A symlink is followed (repositories hold them).
        """
        try:  # O_NONBLOCK: opening a FIFO with no writer does not wait for one
            fd = os.open(self.old_path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TclaudeError(f"cannot read {printable(self.old_path)}: {exc.strerror}") from None
        with os.fdopen(fd, encoding="utf-8", errors="replace", newline="") as handle:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise NotShown("not a regular file: not shown")
            if info.st_size > READ_LIMIT:
                raise NotShown(f"larger than {READ_LIMIT >> 20} MB: not shown")
            return handle.read()

    def not_shown(self) -> str | None:
        """Why the file on disk is not shown (``NotShown``), or None."""
        try:
            self.on_disk()
        except NotShown as why:
            return str(why)
        return None

    def outside(self, cwd: str) -> str | None:
        """The real path of the file when the edit lands outside ``cwd`` (its path,
        or a symlink on it, leads out), else None: a warning, not a refusal."""
        root = os.path.realpath(cwd).rstrip("/") + "/"
        for path in dict.fromkeys((self.path, self.old_path)):
            real = os.path.realpath(path)
            if not real.startswith(root):
                return real
        return None

    def shown_path(self, cwd: str) -> str:
        """The path relative to ``cwd`` when it lies below it, else as it is."""
        root = cwd.rstrip("/") + "/"
        return self.path[len(root) :] if self.path.startswith(root) else self.path

    def shown_name(self, cwd: str) -> str:
        """``shown_path`` made safe for the terminal (a repository names its files)."""
        return printable(self.shown_path(cwd), 1000)

    def unified_diff(self, cwd: str, safe: bool = False) -> str:
        """``diff -u`` of the file on disk against the proposal, named as git names them.

        ``safe``: the names made printable (for the terminal; JSON keeps them exact).
        """
        import difflib

        name = self.shown_name(cwd) if safe else self.shown_path(cwd)
        try:
            before = self.on_disk()
        except NotShown as why:
            return f"({name}: {why})\n"
        lines = difflib.unified_diff(
            (before or "").splitlines(keepends=True),
            self.contents.splitlines(keepends=True),
            "/dev/null" if before is None else f"a/{name}",
            f"b/{name}",
        )
        gap = "\n\\ No newline at end of file\n"
        out = [line if line.endswith("\n") else line + gap for line in lines]
        if not out:
            return f"(no change to {name})\n"
        return "".join(out)

    def counts(self) -> tuple[int, int]:
        """Lines added and removed by the proposal (as ``unified_diff`` shows them);
        (0, 0) when the file on disk is not shown."""
        import difflib

        try:
            before = self.on_disk()
        except NotShown:
            return 0, 0
        added = removed = 0
        lines = difflib.unified_diff(
            (before or "").splitlines(keepends=True),
            self.contents.splitlines(keepends=True),
            n=0,
        )
        for line in lines:
            if line.startswith("@@"):
                break  # past the two header lines
        for line in lines:
            added += line.startswith("+")
            removed += line.startswith("-")
        return added, removed

    def to_json(self, cwd: str) -> dict[str, Any]:
        added, removed = self.counts()
        not_shown = self.not_shown()
        return {
            "tab_name": self.tab_name,
            "file": self.path,
            "old_file": self.old_path,
            "new_file": not_shown is None and self.on_disk() is None,
            "age": round(self.age, 1),
            "changed_on_disk": self.changed_on_disk,
            "not_shown": not_shown,
            "outside": self.outside(cwd),
            "added": added,
            "removed": removed,
            "diff": self.unified_diff(cwd),
        }


def proposals(diffs: Any) -> list[Proposal]:
    """The proposals in the host's ``list_diffs`` result (anything else is skipped)."""
    listed = diffs.get("diffs") if isinstance(diffs, dict) else None
    found = [Proposal.from_json(value) for value in listed or []]
    return [p for p in found if p is not None]


def find(pending: list[Proposal], spec: str, cwd: str) -> Proposal:
    """The proposal for ``spec``: its tab name, or its file (absolute, or relative to
    the caller's directory or to ``cwd``, the instance's)."""
    for proposal in pending:
        if proposal.tab_name == spec:
            return proposal
    candidates = {
        os.path.realpath(os.path.expanduser(spec)),
        os.path.realpath(os.path.join(cwd, spec)),
    }
    for proposal in pending:
        if os.path.realpath(proposal.path) in candidates:
            return proposal
    waiting = ", ".join(p.shown_name(cwd) for p in pending) or "none"
    raise TclaudeError(f"no pending diff for {printable(spec)} (pending: {waiting})")


def editor_command() -> str:
    """``$VISUAL``, else ``$EDITOR``, else ``vi`` (a shell command, as git runs it)."""
    return os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"


def edit_text(text: str, name: str = "") -> str | None:
    """Let the user edit ``text`` in their editor; the result, or None if the editor failed.

    The file is 0600 in a 0700 directory of its own, removed afterwards; it
    is called ``name`` (the proposed file's) so that the editor picks its syntax.
    """
    import shutil
    import tempfile

    directory = tempfile.mkdtemp(prefix="tclaude-review-")  # 0700
    try:
        base = os.path.basename(name)
        path = os.path.join(directory, base if base not in ("", ".", "..") else "proposal")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        # the path goes as "$1", never into the command's text
        command = f'{editor_command()} "$@"'
        try:
            code = subprocess.run(["sh", "-c", command, "editor", path], check=False).returncode
        except OSError:
            return None
        if code != 0:
            return None
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            return handle.read()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def pending(instance: Instance) -> list[Proposal]:
    from .editor_client import editor_call

    return proposals(editor_call(instance, "list_diffs", {}))


def answer(
    instance: Instance, proposal: Proposal, accept: bool, contents: str | None = None
) -> None:
    from .editor_client import editor_call

    params: dict[str, object] = {
        "tab_name": proposal.tab_name,
        "action": "accept" if accept else "reject",
    }
    if contents is not None:
        params["contents"] = contents
    editor_call(instance, "answer_diff", params)


def comment(app: App, instance: Instance, spec: str, text: str, submit: bool) -> None:
    """An @-mention of ``spec`` (FILE:LINE) then ``text`` into Claude's prompt.

    Refused, with nothing typed, unless the instance is idle or busy: a
    permission prompt (the pending edit's, say) would take the keys.
    """
    from .editor_client import editor_call
    from .paste import READY, NotTyped, paste, wait_changed

    if not text.strip():
        raise TclaudeError("the comment is empty: nothing to send")
    mention = _mention(spec, instance.cwd)
    fresh = app.registry.resolve(instance.id)
    if not fresh.running or fresh.pane is None:
        raise TclaudeError(f"instance {instance.name!r} is not running")
    try:
        if fresh.state not in READY:
            raise NotTyped(fresh, fresh.state, pasted=False)
        before = app.tmux.screen(fresh.pane.pane_id)
        editor_call(fresh, "at_mentioned", mention)
        wait_changed(app, fresh.pane.pane_id, before)  # the mention first, then the text
        paste(app, fresh, " " + text.strip(), submit)
    except NotTyped as refused:
        then = (
            "answer it first (the pending edit: accept or reject it)"
            if refused.state == "waiting"
            else f"wait for it (tclaude wait {instance.name} --state idle)"
        )
        raise TclaudeError(
            f"instance {instance.name!r} is {refused.state or 'in no known state'}: "
            f"the comment was not sent; {then}"
        ) from None


def _mention(spec: str, cwd: str) -> dict[str, object]:
    """``parse_file_spec`` of ``spec``, a path relative to here or else to ``cwd``."""
    from .mentions import parse_file_spec

    try:
        return parse_file_spec(spec)
    except TclaudeError as err:
        if os.path.isabs(spec) or not str(err).startswith("no such file"):
            raise
        return parse_file_spec(os.path.join(cwd, spec))
