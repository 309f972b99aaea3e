"""A scripted stand-in for the Anthropic Messages API, on loopback.

The real Claude Code CLI, pointed at it with ``ANTHROPIC_BASE_URL``, runs
whole turns offline: ``POST /v1/messages`` answers with the server-sent
events the real API streams (``message_start``, ``content_block_start``,
``content_block_delta`` with ``text_delta`` or ``input_json_delta``,
``content_block_stop``, ``message_delta`` with the ``stop_reason``,
``message_stop``), or with one JSON message when the body lacks
``"stream": true``. Every other path and method answers ``{}`` with 200.

Main conversation versus side requests: besides the turn itself the CLI
sends its own requests to ``/v1/messages`` (2.1.197: a session-title request
after the first prompt, with no ``tools`` and a system prompt about
generating a title; a one-token quota probe at start on some versions).
Only requests that carry a non-empty ``tools`` list are taken to be the main
conversation, and only they consume the scripted queue; the others get
``side_reply`` (a short text) and are recorded in ``side_requests``.

Queued replies are served in order. When the queue is empty a main request
gets ``default_text``, or ``"Done."`` when its last message carries a
``tool_result`` (the CLI reporting back after a tool ran).
"""

from __future__ import annotations

import collections
import itertools
import json
import threading
import time
import typing as t
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

if t.TYPE_CHECKING:
    from types import TracebackType

JSONDict = dict[str, t.Any]

MODEL = "claude-sonnet-4-5-20250929"


@dataclass(frozen=True)
class TextReply:
    """An assistant message made of one text block, ending the turn.

    ``usage`` overrides the token figures the reply reports (keys of the API's
    ``usage``: ``input_tokens``, ``output_tokens``, ``cache_creation_input_tokens``,
    ``cache_read_input_tokens``); the default is 10 in, 5 out, no cache.
    """

    text: str
    delay: float = 0.0
    usage: JSONDict | None = None


@dataclass(frozen=True)
class ToolUseReply:
    """An assistant message asking to run one tool (stop_reason ``tool_use``)."""

    name: str
    input: JSONDict
    text: str | None = None
    tool_use_id: str = ""
    delay: float = 0.0
    usage: JSONDict | None = None


@dataclass(frozen=True)
class ErrorReply:
    """An API error instead of a message: HTTP ``status`` with the API's error body.

    ``headers`` are added to the response (``retry-after``, ``x-should-retry``,
    ``anthropic-ratelimit-unified-reset``, ...).
    """

    status: int = 429
    error_type: str = "rate_limit_error"
    message: str = "Number of request tokens has exceeded your per-minute rate limit"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


Reply = TextReply | ToolUseReply | ErrorReply


def is_main_request(body: JSONDict) -> bool:
    """Whether a ``/v1/messages`` body belongs to the main conversation.

    The CLI sends its tool list with every turn of the conversation and with
    none of its side requests (title generation, quota probe).
    """
    tools = body.get("tools")
    return isinstance(tools, list) and len(tools) > 0


def tool_results(body: JSONDict) -> list[JSONDict]:
    """The ``tool_result`` blocks in a request's messages, oldest first."""
    found: list[JSONDict] = []
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, list):
            found.extend(
                block
                for block in content
                if isinstance(block, dict) and block.get("type") == "tool_result"
            )
    return found


def user_texts(body: JSONDict) -> list[str]:
    """Every text the user side of a request's messages carries, oldest first."""
    texts: list[str] = []
    for message in body.get("messages", []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(
                block["text"]
                for block in content
                if isinstance(block, dict)
                and block.get("type") == "text"
                and isinstance(block.get("text"), str)
            )
    return texts


def request_session_id(body: JSONDict) -> str | None:
    """The CLI's session id, which it sends in ``metadata.user_id`` (a JSON string)."""
    user_id = (body.get("metadata") or {}).get("user_id")
    if not isinstance(user_id, str):
        return None
    try:
        decoded = json.loads(user_id)
    except ValueError:
        return None
    session_id = decoded.get("session_id") if isinstance(decoded, dict) else None
    return session_id if isinstance(session_id, str) else None


def _last_message_has_tool_result(body: JSONDict) -> bool:
    messages = body.get("messages") or []
    if not messages:
        return False
    content = messages[-1].get("content")
    return isinstance(content, list) and any(
        isinstance(block, dict) and block.get("type") == "tool_result" for block in content
    )


class FakeMessagesAPI:
    """A threaded HTTP server on ``127.0.0.1`` with a random port.

    Use it as a context manager (or call ``start``/``stop``). All public
    attributes may be read from any thread; the lists returned by
    ``requests`` and friends are snapshots.
    """

    def __init__(
        self,
        default_text: str = "Hello from the fake API.",
        side_reply: str = '{"title": "Fake session title"}',
    ) -> None:
        self.default_text = default_text
        self.side_reply = side_reply
        self._lock = threading.Lock()
        self._queue: collections.deque[Reply] = collections.deque()
        self._requests: list[JSONDict] = []
        self._main: list[JSONDict] = []
        self._main_times: list[float] = []
        self._side: list[JSONDict] = []
        self._other: list[tuple[str, str]] = []
        self._ids = itertools.count(1)
        self._changed = threading.Condition(self._lock)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> FakeMessagesAPI:
        """Bind and serve in a daemon thread; idempotent."""
        if self._server is not None:
            return self
        server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="fake-messages-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeMessagesAPI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, for ``ANTHROPIC_BASE_URL``."""
        if self._server is None:
            raise RuntimeError("FakeMessagesAPI is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- script --------------------------------------------------------------

    def queue_text(self, text: str, *, delay: float = 0.0, usage: JSONDict | None = None) -> None:
        """Answer the next main-conversation request with ``text``.

        ``delay`` holds the answer back that many seconds after the
        ``message_start`` event, so a test can see the CLI busy; ``usage``
        sets the token figures the reply reports (see ``TextReply``).
        """
        with self._lock:
            self._queue.append(TextReply(text, delay, usage))

    def queue_tool_use(
        self,
        name: str,
        input: JSONDict,
        text: str | None = None,
        *,
        delay: float = 0.0,
        usage: JSONDict | None = None,
    ) -> str:
        """Answer the next main request with a ``tool_use`` of ``name``.

        Returns the ``tool_use`` id, to find the matching ``tool_result``
        in a later request. ``text`` adds a text block before the tool use.
        """
        with self._lock:
            tool_use_id = f"toolu_fake{next(self._ids):08d}"
            self._queue.append(ToolUseReply(name, dict(input), text, tool_use_id, delay, usage))
        return tool_use_id

    def queue_error(
        self,
        status: int = 429,
        error_type: str = "rate_limit_error",
        message: str = "Number of request tokens has exceeded your per-minute rate limit",
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` main requests with an API error (the CLI retries some)."""
        reply = ErrorReply(status, error_type, message, tuple((headers or {}).items()))
        with self._lock:
            self._queue.extend([reply] * times)

    def pending(self) -> int:
        """How many queued replies have not been served yet."""
        with self._lock:
            return len(self._queue)

    # -- records -------------------------------------------------------------

    @property
    def requests(self) -> list[JSONDict]:
        """Every ``/v1/messages`` body received, main and side, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def main_requests(self) -> list[JSONDict]:
        """The main-conversation bodies only (those with ``tools``)."""
        with self._lock:
            return list(self._main)

    @property
    def main_request_times(self) -> list[float]:
        """``time.monotonic()`` at the arrival of each main request."""
        with self._lock:
            return list(self._main_times)

    @property
    def side_requests(self) -> list[JSONDict]:
        """The bodies of the CLI's own side requests (no ``tools``)."""
        with self._lock:
            return list(self._side)

    @property
    def other_requests(self) -> list[tuple[str, str]]:
        """``(method, path)`` of everything that was not ``POST /v1/messages``."""
        with self._lock:
            return list(self._other)

    def wait_for_requests(
        self,
        predicate: t.Callable[[list[JSONDict]], bool],
        timeout: float = 10.0,
    ) -> list[JSONDict]:
        """Block until ``predicate(main_requests)`` holds; AssertionError on timeout."""
        with self._changed:
            if self._changed.wait_for(lambda: predicate(self._main), timeout=timeout):
                return list(self._main)
            raise AssertionError(
                f"fake API: condition not met within {timeout}s; "
                f"{len(self._main)} main and {len(self._side)} side requests seen"
            )

    def find_tool_result(self, tool_use_id: str) -> JSONDict | None:
        """The ``tool_result`` block answering ``tool_use_id``, if it arrived."""
        for body in self.main_requests:
            for block in tool_results(body):
                if block.get("tool_use_id") == tool_use_id:
                    return block
        return None

    # -- serving -------------------------------------------------------------

    def _record(self, body: JSONDict) -> Reply:
        with self._changed:
            self._requests.append(body)
            main = is_main_request(body)
            if not main:
                self._side.append(body)
                reply: Reply = TextReply(self.side_reply)
            elif self._queue:
                self._main.append(body)
                self._main_times.append(time.monotonic())
                reply = self._queue.popleft()
            else:
                self._main.append(body)
                self._main_times.append(time.monotonic())
                done = _last_message_has_tool_result(body)
                reply = TextReply("Done." if done else self.default_text)
            self._changed.notify_all()
            return reply

    def _record_other(self, method: str, path: str) -> None:
        with self._lock:
            self._other.append((method, path))

    def _next_id(self) -> int:
        with self._lock:
            return next(self._ids)


def _content_blocks(reply: TextReply | ToolUseReply, fallback_id: str) -> list[JSONDict]:
    if isinstance(reply, TextReply):
        return [{"type": "text", "text": reply.text}]
    blocks: list[JSONDict] = []
    if reply.text:
        blocks.append({"type": "text", "text": reply.text})
    blocks.append(
        {
            "type": "tool_use",
            "id": reply.tool_use_id or fallback_id,
            "name": reply.name,
            "input": reply.input,
        }
    )
    return blocks


def _stop_reason(reply: TextReply | ToolUseReply) -> str:
    return "tool_use" if isinstance(reply, ToolUseReply) else "end_turn"


def _usage(reply: TextReply | ToolUseReply, output_tokens: int | None = None) -> JSONDict:
    """The reply's usage; ``output_tokens`` overrides (message_start reports few so far)."""
    usage: JSONDict = {
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        **(reply.usage or {}),
    }
    if output_tokens is not None:
        usage["output_tokens"] = output_tokens
    return usage


def error_json(reply: ErrorReply) -> JSONDict:
    """The body of an API error answer."""
    return {"type": "error", "error": {"type": reply.error_type, "message": reply.message}}


def message_json(reply: TextReply | ToolUseReply, message_id: str, model: str) -> JSONDict:
    """The non-streamed ``/v1/messages`` answer for ``reply``."""
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": _content_blocks(reply, f"toolu_{message_id}"),
        "stop_reason": _stop_reason(reply),
        "stop_sequence": None,
        "usage": _usage(reply),
    }


def message_events(
    reply: TextReply | ToolUseReply, message_id: str, model: str
) -> list[tuple[str, JSONDict]]:
    """The ``(event, data)`` pairs of the streamed answer for ``reply``."""
    events: list[tuple[str, JSONDict]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": _usage(reply, output_tokens=1),
                },
            },
        ),
    ]
    for index, block in enumerate(_content_blocks(reply, f"toolu_{message_id}")):
        if block["type"] == "text":
            start: JSONDict = {"type": "text", "text": ""}
            delta: JSONDict = {"type": "text_delta", "text": block["text"]}
        else:
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        events += [
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            ),
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": index}),
        ]
    events += [
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": _stop_reason(reply), "stop_sequence": None},
                "usage": {"output_tokens": _usage(reply)["output_tokens"]},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return events


def _make_handler(api: FakeMessagesAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: t.Any) -> None:
            pass

        def _read_body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send_json(self, payload: JSONDict, status: int = 200) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("request-id", f"req_fake{api._next_id():08d}")
            self.end_headers()
            self.wfile.write(data)

        def _send_error(self, reply: ErrorReply) -> None:
            data = json.dumps(error_json(reply)).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("request-id", f"req_fake{api._next_id():08d}")
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            api._record_other("GET", self.path)
            self._send_json({})

        def do_POST(self) -> None:
            raw = self._read_body()
            path = self.path.split("?", 1)[0]
            if path.rstrip("/") != "/v1/messages":
                api._record_other("POST", self.path)
                self._send_json({})
                return
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._send_json(
                    {
                        "type": "error",
                        "error": {"type": "invalid_request_error", "message": "body is not JSON"},
                    },
                    status=400,
                )
                return
            if not isinstance(body, dict):
                body = {"_body": body}
            reply = api._record(body)
            if isinstance(reply, ErrorReply):
                time.sleep(reply.delay)
                self._send_error(reply)
                return
            message_id = f"msg_fake{api._next_id():08d}"
            model = str(body.get("model") or MODEL)
            if body.get("stream") is True:
                self._stream(message_events(reply, message_id, model), reply.delay)
            else:
                time.sleep(reply.delay)
                self._send_json(message_json(reply, message_id, model))

        def _stream(self, events: list[tuple[str, JSONDict]], delay: float) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.send_header("request-id", f"req_fake{api._next_id():08d}")
            self.end_headers()
            self.close_connection = True
            for index, (name, data) in enumerate(events):
                self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()
                if index == 0 and delay:
                    time.sleep(delay)

        def do_PUT(self) -> None:
            self._read_body()
            api._record_other("PUT", self.path)
            self._send_json({})

        def do_PATCH(self) -> None:
            self._read_body()
            api._record_other("PATCH", self.path)
            self._send_json({})

        def do_DELETE(self) -> None:
            api._record_other("DELETE", self.path)
            self._send_json({})

        def do_HEAD(self) -> None:
            api._record_other("HEAD", self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler
