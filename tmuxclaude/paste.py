"""Typing into claude's prompt: a bracketed paste, and Enter, only while it takes input.

tmux checks the instance's state in the same step as the paste and as the
Enter, so a permission prompt that opens in between never gets the text.
"""

from __future__ import annotations

from .app import App
from .errors import TclaudeError
from .registry import Instance

PASTE_SETTLE = 2.0  # seconds at most to wait for a paste to show before pressing Enter
PASTE_GAP = 0.1  # seconds at least between the paste and the Enter
READY = ("idle", "busy")  # states that take typed text (busy claude queues it); #{||:} takes 2


class NotTyped(TclaudeError):
    """The instance was not in a state to type into; ``state`` says which."""

    def __init__(self, instance: Instance, state: str, pasted: bool) -> None:
        self.state = state
        if state == "waiting":
            why, then = "waiting (a permission or question prompt is open)", "answer it in its pane"
        else:
            why = f"{state or 'in no known state'} (not ready for input)"
            then = f"wait for it (tclaude wait {instance.name} --state idle)"
        done = "the text was pasted but Enter was not pressed" if pasted else "nothing was typed"
        super().__init__(
            f"instance {instance.name!r} is {why}: {done}; {then}, or pass --force to type anyway"
        )


def _if_ready(pane_id: str, then: str, otherwise: str = "") -> list[str]:
    """A tmux ``if-shell -F`` that runs ``then`` only while the pane's state is ready.

    tmux checks ``@tclaude-state`` and runs the command in one step, so a
    prompt that opens just before cannot receive the text or the Enter.
    Otherwise it runs ``otherwise`` and prints ``refused:<state>``.
    """
    condition = "#{||:" + ",".join(f"#{{==:#{{@tclaude-state}},{s}}}" for s in READY) + "}"
    report = f"display-message -p -t {pane_id} 'refused:#{{@tclaude-state}}'"
    return ["if-shell", "-F", "-t", pane_id, condition, then, f"{otherwise}{report}"]


def _screen(app: App, pane_id: str) -> str:
    return app.tmux.screen(pane_id)


def wait_changed(app: App, pane_id: str, before: str, limit: float = PASTE_SETTLE) -> None:
    """Return once the pane shows something else than ``before``, or after ``limit`` s.

    Never sooner than ``PASTE_GAP``: a busy claude's screen changes all the time.
    """
    import time

    time.sleep(PASTE_GAP)
    deadline = time.monotonic() + limit
    while _screen(app, pane_id) == before and time.monotonic() < deadline:
        time.sleep(0.02)


def paste(app: App, instance: Instance, text: str, submit: bool, force: bool = False) -> None:
    """Paste ``text`` into the instance's pane, then press Enter if ``submit``.

    Unless ``force``, NotTyped when the instance is not idle or busy, at
    the paste or at the Enter. The text goes through stdin, never argv.
    """
    assert instance.pane is not None
    pane_id = instance.pane.pane_id
    buffer = f"tclaude-{instance.id}"
    put = f"paste-buffer -p -d -b {buffer} -t {pane_id}"
    load = ["load-buffer", "-b", buffer, "-"]
    before = _screen(app, pane_id) if submit else ""
    if force:
        app.tmux.sequence([load, put.split()], stdin=text)
    else:
        # on refusal the buffer goes too: nothing of the text is left in tmux
        guarded = _if_ready(pane_id, put, f"delete-buffer -b {buffer} ; ")
        out = app.tmux.sequence([load, guarded], stdin=text)
        if out.startswith("refused:"):
            raise NotTyped(instance, out.strip().removeprefix("refused:"), pasted=False)
    if submit:
        # Enter on its own, once the paste has landed: claude takes an Enter that comes
        # in the same read as the paste for part of the paste, and does not submit
        wait_changed(app, pane_id, before)
        enter = f"send-keys -t {pane_id} Enter"
        out = app.tmux.run(*(enter.split() if force else _if_ready(pane_id, enter)))
        if out.startswith("refused:"):
            raise NotTyped(instance, out.strip().removeprefix("refused:"), pasted=True)
