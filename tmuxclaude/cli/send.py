"""Send an at-mention or text to an instance (or text to all of them).

--file mentions a file (lines are 1-based and inclusive here) through the
instance's editor socket: Claude's prompt gets @path#L10-20. --text pastes
text into its pane (bracketed paste); --submit then presses Enter.

examples:
  tclaude send api --file src/app.py:10-20
  tclaude send api --text "run the tests" --submit
  tclaude broadcast --text "/compact" --submit
"""

from __future__ import annotations

import argparse
import json
import os
import socket

from ..errors import TclaudeError
from ..registry import Instance
from .app import App, add_json_flag


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    if name == "send":
        parser.add_argument("target", help="instance name, id or pane id")
        parser.add_argument("--file", help="PATH[:START[-END]], 1-based lines")
    parser.add_argument("--text", help="text to paste into the prompt")
    parser.add_argument("--submit", action="store_true", help="press Enter after the text")
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
        conn.settimeout(10)
        try:
            conn.connect(instance.socket)
        except OSError as exc:
            raise TclaudeError(
                f"cannot reach {instance.name!r} at {instance.socket}: {exc}"
            ) from None
        message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        conn.sendall(json.dumps(message).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    reply = json.loads(data or b"{}")
    if "error" in reply:
        raise TclaudeError(f"{instance.name}: {reply['error'].get('message')}")
    result: dict[str, object] = reply.get("result", {})
    return result


def paste(app: App, instance: Instance, text: str, submit: bool) -> None:
    assert instance.pane is not None
    buffer = f"tclaude-{instance.id}"
    commands = [
        ["load-buffer", "-b", buffer, "-"],
        ["paste-buffer", "-p", "-d", "-b", buffer, "-t", instance.pane.pane_id],
    ]
    args: list[str] = []
    for command in commands:
        args += [*([";"] if args else []), *command]
    app.tmux.run(*args, stdin=text)
    if submit:
        # Enter on its own, after the paste has landed, so it submits rather than joins
        app.tmux.run("send-keys", "-t", instance.pane.pane_id, "Enter")


def run(args: argparse.Namespace) -> int:
    from .output import print_json

    app = App.load()
    if args.command == "broadcast":
        if not args.text:
            raise TclaudeError("broadcast needs --text")
        targets = [i for i in app.registry.instances() if i.running]
        for instance in targets:
            paste(app, instance, args.text, args.submit)
        if args.json:
            print_json({"sent": [i.name for i in targets]})
        else:
            print(f"sent to {len(targets)} instance(s)")
        return 0
    if not args.file and args.text is None:
        raise TclaudeError("send needs --file or --text")
    instance = app.registry.resolve(args.target)
    if not instance.running:
        raise TclaudeError(f"instance {instance.name!r} is not running")
    result: dict[str, object] = {}
    if args.file:
        result = editor_call(instance, "at_mentioned", parse_file_spec(args.file))
    if args.text is not None:
        paste(app, instance, args.text, args.submit)
        result["pasted"] = True
    if args.json:
        print_json(result)
    elif args.file and result.get("delivered") == 0:
        print(f"{instance.name}: no Claude connected yet; the mention was not delivered")
    return 0
