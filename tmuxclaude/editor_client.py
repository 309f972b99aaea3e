"""One request on an instance host's editor socket, as a short-lived client."""

from __future__ import annotations

import json
import socket

from . import runtime_files
from .errors import TclaudeError
from .registry import Instance

HOST_TIMEOUT = 10.0  # seconds for the host to answer on its editor socket


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
                f"it may be stuck: see its log ({runtime_files.log_path(instance.id)}), "
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
