"""Kept for imports: ``Tclaude`` is in tests/support/cli_runner.py."""

from tests.support.cli_runner import Tclaude

__all__ = ["Tclaude"]
