"""What a Claude Code hook event means for an instance's state. Pure logic, no I/O.

States: ``starting`` (host up, no session yet), ``idle`` (ready, or the turn
is done), ``busy`` (working), ``waiting`` (needs you: a permission or an
elicitation), ``error`` (a turn failed, or claude failed at start),
``limited`` (a turn stopped on a rate or usage limit: the StopFailure hook
says ``error: rate_limit``), ``stopped`` (the session ended). ``unseen``
marks a finished turn nobody has looked at yet; focusing the pane clears it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .session_ids import is_session_id, trusted_transcript

STATES = ("starting", "idle", "busy", "waiting", "limited", "error", "stopped", "stale")
# transitions into these may notify
ATTENTION = frozenset({"waiting", "limited", "idle", "error", "stale"})
# StopFailure's ``error`` for an API 429 (rate limit, or a plan's usage limit), 2.1.197/2.1.332
LIMIT_ERRORS = frozenset({"rate_limit"})


@dataclass(frozen=True, slots=True)
class Change:
    """The outcome of one hook event."""

    state: str | None = None  # new state, None = unchanged
    unseen: bool | None = None  # True = turn finished unseen, False = seen
    session_id: str | None = None
    session_source: str | None = None
    transcript: str | None = None  # where the CLI keeps this session's conversation


class StateTracker:
    """Folds hook events into the instance's state."""

    def __init__(self) -> None:
        self.state = "starting"
        self.session_id: str | None = None
        self._permission_pending = False

    def feed(self, payload: dict[str, Any]) -> Change:
        """Apply one hook payload (the JSON a hook receives) and say what changed."""
        event = payload.get("hook_event_name")
        change = self._change(event, payload)
        if change.state == self.state:
            change = Change(
                None, change.unseen, change.session_id, change.session_source, change.transcript
            )
        elif change.state is not None:
            self.state = change.state
        if change.session_id is not None:
            self.session_id = change.session_id
        return change

    def observe(self, state: str) -> Change:
        """Apply a state seen outside the hooks (Claude Code's session registry)."""
        if state != "waiting":
            self._permission_pending = False  # that permission was answered
        if state == self.state:
            return Change()
        self.state = state
        return Change(state)

    def permission_answered(self) -> Change:
        """A diff Claude waited on was answered in an editor: Claude acts on it now.

        No hook says so (the CLI fires none for a diff rejected in the IDE), and a
        ``permission_prompt`` notification arriving later is about that same diff.
        """
        self._permission_pending = False
        if self.state != "waiting":
            return Change()
        self.state = "busy"
        return Change("busy")

    def _change(self, event: Any, payload: dict[str, Any]) -> Change:
        if event == "SessionStart":
            return self._session_start(payload)
        if event == "UserPromptSubmit":
            self._permission_pending = False
            return Change("busy", unseen=False)
        if event == "PreToolUse":
            return Change("busy")
        if event == "PostToolUse":
            self._permission_pending = False
            return Change("busy")
        if event == "PermissionRequest":
            self._permission_pending = True
            return Change("waiting")
        if event == "Notification":
            kind = payload.get("notification_type")
            # the CLI sends permission_prompt seconds after PermissionRequest: only
            # believe it while that permission is still unanswered
            if kind == "permission_prompt" and self._permission_pending:
                return Change("waiting")
            if kind == "elicitation_dialog" and self.state == "busy":
                return Change("waiting")
            return Change()
        if event == "Stop":
            self._permission_pending = False
            return Change("idle", unseen=True)
        if event == "StopFailure":
            self._permission_pending = False
            return Change("limited" if payload.get("error") in LIMIT_ERRORS else "error")
        if event == "SessionEnd":
            # /clear ends a session and starts the next one at once
            return Change() if payload.get("reason") == "clear" else Change("stopped")
        return Change()  # SubagentStop, PreCompact and the rest change nothing

    def _session_start(self, payload: dict[str, Any]) -> Change:
        """A session began: keep its id only if it is a UUID, its transcript only if ours."""
        session_id = payload.get("session_id")
        source = payload.get("source")
        transcript = payload.get("transcript_path")
        if not is_session_id(session_id):
            _refused("a session id that is no UUID: %.80r", session_id)
            return Change("idle")
        if transcript and not trusted_transcript(transcript, session_id):
            _refused("a transcript path outside the projects dir: %.200r", transcript)
            transcript = None
        return Change(
            "idle",
            session_id=session_id,
            session_source=source if isinstance(source, str) and len(source) <= 32 else None,
            transcript=transcript or None,
        )


def _refused(what: str, value: object) -> None:
    import logging  # only here: `tclaude wait` imports this module for STATES

    logging.getLogger(__name__).warning("SessionStart refused " + what, value)
