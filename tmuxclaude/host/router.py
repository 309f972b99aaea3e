"""Where tool calls, editor context and pending diffs meet inside one host.

The router is the host's ``ToolBackend``: a tool call goes to the most
recently active attached editor when there is one, and is answered by the
host itself otherwise. ``openDiff`` is held here as a pending diff so that
``close_tab``, ``closeAllDiffTabs`` and a closing CLI connection can resolve
it whoever is showing it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..protocol import context
from ..protocol.jsonrpc import INTERNAL_ERROR, JsonObject, RpcError, notification
from ..protocol.mcp import McpConnection
from ..protocol.tools import text_result

logger = logging.getLogger(__name__)

EDITOR_TIMEOUT = float(os.environ.get("TCLAUDE_EDITOR_TIMEOUT") or 5.0)
#: Tool calls the CLI times out on sooner than EDITOR_TIMEOUT, with the time
#: the editor gets (seconds): the host answers itself when the editor has not
#: by then. getDiagnostics: 2.1.332 waits 0.5 s; the rest is for the way back.
CLI_BUDGET = {"getDiagnostics": 0.35}
DIGEST_LIMIT = 64 * 1024 * 1024  # bytes of a proposed file read to notice a change on disk
#: At-mentions sent while no Claude is connected are kept this long (seconds) and
#: delivered in order once one is (claudecode.nvim's ``queue_timeout``) ...
MENTION_QUEUE_TIMEOUT = float(os.environ.get("TCLAUDE_MENTION_QUEUE_TIMEOUT") or 30.0)
#: ... at most this many (the oldest go first) ...
MENTION_QUEUE_MAX = 64
#: ... this long (seconds) after a CLI's handshake, when mentions also wait: the CLI
#: takes the tools before its prompt listens for mentions, and drops what comes
#: between (claudecode's ``connection_wait_delay``; 2.1.197 and 2.1.332 need ~0.15 s).
MENTION_DELAY = float(os.environ.get("TCLAUDE_MENTION_DELAY") or 0.6)


class EditorGoneError(Exception):
    """The editor went away before it answered."""


class CliLink(Protocol):
    """One connected Claude Code CLI, as the IDE server holds it."""

    mcp: McpConnection

    def send(self, text: str) -> bool:
        """Queue a frame without waiting; False when the connection is gone or dropped."""


class EditorPeer(Protocol):
    """One attached editor, as the editor socket holds it."""

    name: str
    last_active: float

    async def request(self, method: str, params: JsonObject) -> JsonObject: ...

    def notify(self, method: str, params: JsonObject) -> None: ...


@dataclass(eq=False)
class PendingDiff:
    tab_name: str
    mcp: McpConnection
    future: asyncio.Future[JsonObject] = field(repr=False)
    arguments: JsonObject = field(default_factory=dict, repr=False)  # openDiff's, as sent
    proposed_at: float = field(default_factory=time.time)
    disk_digest: str | None = None  # of the file on disk when proposed (None: no file)

    def resolve(self, value: JsonObject) -> bool:
        if self.future.done():
            return False
        self.future.set_result(value)
        return True


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark an exception as seen: the caller may have left before it came."""
    if not future.cancelled():
        future.exception()


def _disk_path(arguments: JsonObject) -> str | None:
    path = arguments.get("old_file_path") or arguments.get("new_file_path")
    return path if isinstance(path, str) else None


def file_digest(path: str | None) -> str | None:
    """What a file holds, to tell later whether it changed: SHA-256 of its bytes.

    None when it cannot be read (missing: a new file). Not a regular file, or
    one larger than ``DIGEST_LIMIT``: its size and mtime (a read would block the host).
    """
    import hashlib  # only once a diff is proposed: the host starts without it

    if path is None:
        return None
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > DIGEST_LIMIT:
            return f"{info.st_mode}:{info.st_size}:{info.st_mtime_ns}"
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _json_text(value: Any) -> JsonObject:
    return text_result(json.dumps(value, ensure_ascii=False))


class Router:
    """The host's shared state: CLIs, editors, latest selection, pending diffs."""

    def __init__(self, cwd: str, accept_pid: Callable[[int], bool]) -> None:
        self.cwd = cwd
        self._accept_pid = accept_pid
        self.clis: set[CliLink] = set()
        self.on_change: Callable[[], None] | None = None  # ready CLIs came or went
        #: an editor answered a diff (FILE_SAVED or DIFF_REJECTED), before the CLI gets it
        self.on_diff_answered: Callable[[str], None] | None = None
        self.editors: list[EditorPeer] = []
        self.latest_selection: JsonObject | None = None
        self.pending: dict[str, PendingDiff] = {}
        # at-mentions waiting for a CLI: (loop time queued, notification text)
        self._mentions: deque[tuple[float, str]] = deque(maxlen=MENTION_QUEUE_MAX)
        self._flush: asyncio.TimerHandle | None = None
        self._mentions_from = 0.0  # loop time from which mentions go on at once
        self._editors_changed = asyncio.Event()
        name = os.path.basename(cwd.rstrip("/")) or cwd
        self._folders = _json_text(
            {
                "success": True,
                "folders": [{"name": name, "uri": "file://" + cwd, "path": cwd}],
                "rootPath": cwd,
            }
        )

    # --- ToolBackend -------------------------------------------------------

    def accept_ide_connected(self, pid: int) -> bool:
        return self._accept_pid(pid)

    def call_now(self, name: str, arguments: JsonObject) -> JsonObject | None:
        if name == "getWorkspaceFolders":
            return self._folders
        if name == "getLatestSelection":
            return self._latest_selection()
        if name == "close_tab":
            self.close_diff(arguments["tab_name"])
            return text_result("TAB_CLOSED")
        if name == "closeAllDiffTabs":
            return text_result(f"CLOSED_{self.close_all_diffs()}_DIFF_TABS")
        if name == "openDiff" or self.editors:
            return None
        return self.fallback(name, arguments)

    async def call_later(self, name: str, arguments: JsonObject, mcp: McpConnection) -> JsonObject:
        if name == "openDiff":
            return await self._open_diff(arguments, mcp)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(EDITOR_TIMEOUT, CLI_BUDGET.get(name, EDITOR_TIMEOUT))
        while self.editors:
            editor = self.active_editor()
            assert editor is not None
            try:
                async with asyncio.timeout_at(deadline):
                    return await editor.request(name, arguments)
            except EditorGoneError:
                # drop it now: a closing link fails without yielding, and its reader
                # (which would detach it) may not run before this loop comes round
                self.editor_detached(editor)
                continue
            except TimeoutError:
                logger.warning("editor %s did not answer %s in time", editor.name, name)
                break
        return self.fallback(name, arguments)

    # --- answers without an editor -----------------------------------------

    def _latest_selection(self) -> JsonObject:
        if self.latest_selection is None:
            return _json_text({"success": False, "message": "No selection available"})
        return _json_text({"success": True, **self.latest_selection})

    def fallback(self, name: str, arguments: JsonObject) -> JsonObject:
        """The host's own answer to an editor tool when no editor serves it."""
        if name == "getCurrentSelection":
            if self.latest_selection is None:
                return _json_text({"success": False, "message": "No active editor found"})
            return self._latest_selection()
        if name == "getOpenEditors":
            return _json_text({"tabs": []})
        if name == "getDiagnostics":
            return _json_text([])
        if name in ("checkDocumentDirty", "saveDocument"):
            path = arguments["filePath"]
            return _json_text(
                {"success": False, "filePath": path, "message": f"Document not open: {path}"}
            )
        if name == "openFile":
            path = arguments["filePath"]
            return _json_text(
                {"success": False, "filePath": path, "message": "No editor attached: not opened"}
            )
        raise RpcError(INTERNAL_ERROR, f"no fallback for {name}")

    # --- diffs ---------------------------------------------------------------

    async def _open_diff(self, arguments: JsonObject, mcp: McpConnection) -> JsonObject:
        tab = arguments["tab_name"]
        self.close_diff(tab)  # a reused tab name replaces the older proposal
        diff = PendingDiff(
            tab,
            mcp,
            asyncio.get_running_loop().create_future(),
            arguments,
            disk_digest=file_digest(_disk_path(arguments)),
        )
        self.pending[tab] = diff
        waiting: asyncio.Future[Any] | None = None  # cancelled if this call is
        try:
            while not diff.future.done():
                editor = self.active_editor()
                if editor is None:
                    waiting = asyncio.ensure_future(self._editors_changed.wait())
                    await asyncio.wait({diff.future, waiting}, return_when="FIRST_COMPLETED")
                    waiting.cancel()
                    continue
                ask: asyncio.Future[JsonObject] = asyncio.ensure_future(
                    editor.request("openDiff", arguments)
                )
                ask.add_done_callback(_retrieved)
                waiting = ask
                await asyncio.wait({diff.future, ask}, return_when="FIRST_COMPLETED")
                if not ask.done():
                    ask.cancel()
                    continue
                try:
                    answer = ask.result()
                except EditorGoneError:
                    self.editor_detached(editor)
                    continue
                if diff.resolve(answer):
                    self._diff_answered(answer)
            return diff.future.result()
        finally:
            if waiting is not None:
                waiting.cancel()
            if self.pending.get(tab) is diff:
                del self.pending[tab]

    def _diff_answered(self, answer: JsonObject) -> None:
        """Tell the host an editor answered a diff: the permission Claude waited on is given."""
        content = answer.get("content")
        first = content[0] if isinstance(content, list) and content else None
        kind = first.get("text") if isinstance(first, dict) else None
        if kind in ("FILE_SAVED", "DIFF_REJECTED") and self.on_diff_answered is not None:
            self.on_diff_answered(kind)

    def close_diff(self, tab_name: str) -> bool:
        """Resolve a pending diff as rejected and tell the editors to close it."""
        diff = self.pending.pop(tab_name, None)
        if diff is None:
            return False
        diff.resolve(text_result("DIFF_REJECTED", tab_name))
        for editor in self.editors:
            editor.notify("close_tab", {"tab_name": tab_name})
        return True

    def close_all_diffs(self) -> int:
        return sum(self.close_diff(tab) for tab in list(self.pending))

    def list_diffs(self) -> list[JsonObject]:
        """The pending diffs, oldest first, for a reviewer that is not an editor.

        ``changed_on_disk``: the file differs from what it was when proposed.
        """
        now = time.time()
        return [
            {
                "tab_name": diff.tab_name,
                "old_file_path": diff.arguments.get("old_file_path"),
                "new_file_path": diff.arguments.get("new_file_path"),
                "new_file_contents": diff.arguments.get("new_file_contents"),
                "proposed_at": diff.proposed_at,
                "age": max(0.0, now - diff.proposed_at),
                "changed_on_disk": file_digest(_disk_path(diff.arguments)) != diff.disk_digest,
            }
            for diff in sorted(self.pending.values(), key=lambda d: d.proposed_at)
        ]

    def answer_diff(self, tab_name: str, accept: bool, contents: str | None = None) -> bool:
        """Answer a pending diff as an editor would, and tell the editors to close it.

        Accepted: ``FILE_SAVED`` and ``contents`` (default: the proposal), which
        the CLI writes; rejected: ``DIFF_REJECTED``. False when no such diff waits.
        """
        diff = self.pending.pop(tab_name, None)
        if diff is None:
            return False
        if accept:
            text = contents if contents is not None else diff.arguments.get("new_file_contents")
            answer = text_result("FILE_SAVED", text if isinstance(text, str) else "")
        else:
            answer = text_result("DIFF_REJECTED", tab_name)
        if diff.resolve(answer):
            self._diff_answered(answer)  # no hook says so: the host leaves waiting itself
        for editor in self.editors:
            editor.notify("close_tab", {"tab_name": tab_name})
        return True

    # --- connections ---------------------------------------------------------

    def cli_connected(self, cli: CliLink) -> None:
        self.clis.add(cli)

    def cli_ready(self, cli: CliLink) -> None:
        """The CLI finished its handshake (it asked for the tools)."""
        if self.on_change is not None:
            self.on_change()
        self._mentions_from = asyncio.get_running_loop().time() + MENTION_DELAY
        if self._mentions:
            self._schedule_flush()

    @property
    def ready_clis(self) -> int:
        return sum(1 for cli in self.clis if cli.mcp.ready)

    def cli_closed(self, cli: CliLink) -> None:
        self.clis.discard(cli)
        if cli.mcp.ready and self.on_change is not None:
            self.on_change()
        for tab, diff in list(self.pending.items()):
            if diff.mcp is cli.mcp:
                self.close_diff(tab)

    def editor_attached(self, editor: EditorPeer) -> None:
        if editor not in self.editors:
            self.editors.append(editor)
        self._signal_editors_changed()

    def editor_detached(self, editor: EditorPeer) -> None:
        if editor in self.editors:
            self.editors.remove(editor)
            self._signal_editors_changed()

    def _signal_editors_changed(self) -> None:
        self._editors_changed.set()
        self._editors_changed = asyncio.Event()

    def active_editor(self) -> EditorPeer | None:
        if not self.editors:
            return None
        return max(self.editors, key=lambda e: e.last_active)

    # --- context to the CLIs -------------------------------------------------

    def push_selection(self, params: Any) -> int:
        selection = context.selection_changed(params)
        self.latest_selection = selection
        return self._broadcast("selection_changed", selection)

    def push_at_mention(self, params: Any) -> tuple[int, int]:
        """Send a mention on, or keep it until a CLI is ready: (delivered to, queued now).

        Queued while no CLI has finished its handshake, for ``MENTION_DELAY`` after
        one has, and behind mentions still queued (their order is kept); sent to the
        CLIs past ``ide_connected`` then; dropped after ``MENTION_QUEUE_TIMEOUT``.
        """
        text = notification("at_mentioned", context.at_mentioned(params))
        now = asyncio.get_running_loop().time()
        if not self._mentions and self.ready_clis and now >= self._mentions_from:
            return self._send(text), 0
        self._drop_old_mentions()
        self._mentions.append((now, text))
        if self._listening():
            self._schedule_flush()
        return 0, len(self._mentions)

    def _schedule_flush(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
        loop = asyncio.get_running_loop()
        self._flush = loop.call_later(
            max(0.0, self._mentions_from - loop.time()), self._flush_mentions
        )

    def _listening(self) -> bool:
        """Whether a CLI takes mentions: one past ``ide_connected`` (as ``_send`` sends)."""
        return any(cli.mcp.trusted for cli in self.clis)

    def _drop_old_mentions(self) -> None:
        oldest = asyncio.get_running_loop().time() - MENTION_QUEUE_TIMEOUT
        while self._mentions and self._mentions[0][0] < oldest:
            self._mentions.popleft()

    def _flush_mentions(self) -> None:
        self._flush = None
        if not self._listening():
            return  # it went away again: wait for the next one
        self._drop_old_mentions()
        while self._mentions:
            self._send(self._mentions.popleft()[1])

    def _broadcast(self, method: str, params: JsonObject) -> int:
        """Queue a notification to every CLI that finished its handshake; never waits.

        A CLI that does not read is dropped by its own queue, not waited for.
        """
        return self._send(notification(method, params))

    def _send(self, text: str) -> int:
        return sum(cli.send(text) for cli in list(self.clis) if cli.mcp.trusted)
