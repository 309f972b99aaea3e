"""Human and JSON output. rich is imported only when a table is printed."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    styles: Sequence[dict[int, str]] | None = None,
) -> None:
    """A plain table when stdout is not a terminal, a rich one when it is.

    ``styles[row]`` maps a column index to a rich style for that cell.
    """
    if not sys.stdout.isatty():
        widths = [
            max(len(c), *(len(r[i]) for r in rows)) if rows else len(c)
            for i, c in enumerate(columns)
        ]
        lines = [
            "  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()
        ]
        lines += [
            "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows
        ]
        sys.stdout.write("\n".join(lines) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    grid = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        grid.add_column(column.upper())
    for number, row in enumerate(rows):
        cells = list(row)
        for index, style in (styles[number] if styles else {}).items():
            cells[index] = f"[{style}]{cells[index]}[/]"
        grid.add_row(*cells)
    Console().print(grid)


def state_style(state: str) -> str:
    from ..states import look

    return look(state).style


def positive_count(text: str) -> int:
    """An argparse type: a count from 1 to 100,000 (``-n`` of peek, log, history)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 100_000:
        raise argparse.ArgumentTypeError(f"not between 1 and 100000: {text}")
    return value
