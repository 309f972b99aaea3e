"""Send an at-mention or text to an instance (or text to all of them).

--file mentions a file (lines are 1-based and inclusive here) through the
instance's editor socket: Claude's prompt gets @path#L10-20. --text pastes
text into its pane (bracketed paste); --submit then presses Enter.

Text is typed only into an instance that is idle or busy: one that is
waiting (a permission or question prompt is open: a pasted "1" or an Enter
would answer it) or not ready (starting, error, stopped, stale) is refused
by send and skipped by broadcast, unless --force. The state is checked by
tmux itself in the same step as the paste, and again with the Enter.

examples:
  tclaude send api --file src/app.py:10-20
  tclaude send api --text "run the tests" --submit
  tclaude broadcast --text "/compact" --submit
  tclaude send api --text 2 --force      answer its open prompt on purpose
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys

from ..errors import TclaudeError
from ..host import record
from ..registry import Instance
from .app import App, add_json_flag

HOST_TIMEOUT = 10.0  # seconds for the host to answer on its editor socket
PASTE_SETTLE = 2.0  # seconds at most to wait for a paste to show before pressing Enter
PASTE_GAP = 0.1  # seconds at least between the paste and the Enter
READY = ("idle", "busy")  # states that take typed text (busy claude queues it); #{||:} takes 2


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    if name == "send":
        parser.add_argument("target", help="instance name, id or pane id")
        parser.add_argument("--file", help="PATH[:START[-END]], 1-based lines")
    parser.add_argument("--text", help="text to paste into the prompt")
    parser.add_argument("--submit", action="store_true", help="press Enter after the text")
    parser.add_argument(
        "--force",
        action="store_true",
        help="type even into a waiting prompt or an instance that is not ready",
    )
    add_json_flag(parser)


def parse_file_spec(spec: str) -> dict[str, object]:
    """``path:10-20`` → at_mentioned params with 0-based lines."""
    path, start, end = spec, None, None
    head, sep, tail = spec.rpartition(":")
    if sep and tail and all(part.isdigit() for part in tail.split("-", 1)):
        path = head
        first, _, last = tail.partition("-")
        start, end = int(first), int(last or first)
        if start < 1 or end < start:
            raise TclaudeError(f"bad line range in {spec!r}: lines are 1-based, START <= END")
    full = os.path.realpath(os.path.expanduser(path))
    if not os.path.exists(full):
        raise TclaudeError(f"no such file: {path}")
    params: dict[str, object] = {"filePath": full}
    if end is not None and os.path.isfile(full):
        count = _line_count(full)
        if end > count:
            raise TclaudeError(f"{path} has {count} line(s); lines {start}-{end} go beyond its end")
    if start is not None and end is not None:
        params["lineStart"] = start - 1
        params["lineEnd"] = end - 1
    return params


def _line_count(path: str) -> int:
    """Lines as an editor counts them: a last line without a newline counts too."""
    count, last = 0, b"\n"
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 16):
                count += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError as exc:
        raise TclaudeError(f"cannot read {path}: {exc.strerror}") from None
    return count + (last != b"\n")


def editor_call(instance: Instance, method: str, params: dict[str, object]) -> dict[str, object]:
    """One request on the instance's editor socket; the result, or TclaudeError."""
    if not instance.running:
        raise TclaudeError(f"instance {instance.name!r} is not running")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(HOST_TIMEOUT)
        try:
            conn.connect(instance.socket)
        except OSError as exc:
            raise TclaudeError(
                f"cannot reach {instance.name!r} at {instance.socket}: {exc}"
            ) from None
        message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        data = b""
        try:
            conn.sendall(json.dumps(message).encode() + b"\n")
            while not data.endswith(b"\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
        except TimeoutError:
            raise TclaudeError(
                f"the host of {instance.name!r} did not answer within {HOST_TIMEOUT:.0f} s; "
                f"it may be stuck: see its log ({record.log_path(instance.id)}), "
                f"or stop it with tclaude kill {instance.name}"
            ) from None
        except OSError as exc:
            raise TclaudeError(f"lost {instance.name!r} at {instance.socket}: {exc}") from None
    try:
        reply = json.loads(data or b"{}")
    except ValueError:
        raise TclaudeError(f"the host of {instance.name!r} sent a reply that is not JSON") from None
    if not isinstance(reply, dict):
        raise TclaudeError(f"the host of {instance.name!r} sent a reply that is not an object")
    if "error" in reply:
        error = reply["error"]
        raise TclaudeError(
            f"{instance.name}: {error.get('message') if isinstance(error, dict) else error}"
        )
    result = reply.get("result", {})
    return result if isinstance(result, dict) else {}


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
    return app.tmux.run("capture-pane", "-p", "-t", pane_id, check=False)


def _wait_changed(app: App, pane_id: str, before: str, limit: float = PASTE_SETTLE) -> None:
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
        app.tmux.run(*load, ";", *put.split(), stdin=text)
    else:
        # on refusal the buffer goes too: nothing of the text is left in tmux
        guarded = _if_ready(pane_id, put, f"delete-buffer -b {buffer} ; ")
        out = app.tmux.run(*load, ";", *guarded, stdin=text)
        if out.startswith("refused:"):
            raise NotTyped(instance, out.strip().removeprefix("refused:"), pasted=False)
    if submit:
        # Enter on its own, once the paste has landed: claude takes an Enter that comes
        # in the same read as the paste for part of the paste, and does not submit
        _wait_changed(app, pane_id, before)
        enter = f"send-keys -t {pane_id} Enter"
        out = app.tmux.run(*(enter.split() if force else _if_ready(pane_id, enter)))
        if out.startswith("refused:"):
            raise NotTyped(instance, out.strip().removeprefix("refused:"), pasted=True)


def run(args: argparse.Namespace) -> int:
    from .output import print_json

    if args.text == "":
        raise TclaudeError("--text is empty: nothing to type")
    app = App.load()
    if args.command == "broadcast":
        if not args.text:
            raise TclaudeError("broadcast needs --text")
        sent: list[str] = []
        skipped: dict[str, str] = {}
        for instance in app.registry.instances():
            if not instance.running:
                continue
            try:
                paste(app, instance, args.text, args.submit, args.force)
            except NotTyped as refused:
                skipped[instance.name] = refused.state
            else:
                sent.append(instance.name)
        if args.json:
            print_json({"sent": sent, "skipped": skipped})
        else:
            print(f"sent to {len(sent)} instance(s)")
            if skipped:
                names = ", ".join(f"{name} ({state})" for name, state in skipped.items())
                print(f"skipped (not ready, or a prompt is open; --force to type anyway): {names}")
        return 0
    if not args.file and args.text is None:
        raise TclaudeError("send needs --file or --text")
    instance = app.registry.resolve(args.target)
    if not instance.running:
        raise TclaudeError(f"instance {instance.name!r} is not running")
    result: dict[str, object] = {}
    if args.file:
        mention = parse_file_spec(args.file)
        result = editor_call(instance, "at_mentioned", mention)
        if any(char.isspace() for char in str(mention["filePath"])):
            # Claude Code writes the mention as @path#L.. unquoted: it ends at the space
            print(
                f"tclaude: warning: Claude Code does not resolve an @-mention of a path "
                f"with a space ({mention['filePath']}); name the file in --text instead",
                file=sys.stderr,
            )
    if args.text is not None:
        paste(app, instance, args.text, args.submit, args.force)
        result["pasted"] = True
    if args.json:
        print_json(result)
    elif args.file and result.get("queued"):
        print(f"{instance.name}: no Claude connected yet; the mention is queued until it is")
    elif args.file and result.get("delivered") == 0:
        print(f"{instance.name}: no Claude connected yet; the mention was not delivered")
    return 0
