"""Rows of the benchmark table, the statistics behind them, and how they print."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

OK = "ok"
OVER = "over"
NA = "n/a"  # not measured: the feature is missing or the run failed
INFO = "—"  # a figure without a target


@dataclass
class Row:
    """One line of the table: what, this machine's figure, the target, the verdict."""

    section: str
    what: str
    figure: str
    target: str = ""
    verdict: str = INFO
    reference: str = ""
    value: float | None = None  # the figure as a number (unit below), for --json
    unit: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def unavailable(section: str, what: str, reason: str, target: str = "") -> Row:
    text = reason if reason.startswith("not available") else f"not available: {reason}"
    return Row(section, what, text, target, NA)


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..100) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def verdict(value: float, limit: float, *, at_most: bool = True) -> str:
    if math.isnan(value):
        return NA
    ok = value <= limit if at_most else value >= limit
    return OK if ok else OVER


def ms(seconds: float, digits: int = 1) -> str:
    return f"{seconds * 1000:.{digits}f} ms"


def mib(nbytes: float) -> str:
    return f"{nbytes / 2**20:.1f} MB"


def machine() -> dict[str, Any]:
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(terse=True),
        "cpu": _cpu_model(),
        "load_before": load_average(),
    }


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "?"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


COLUMNS = ("section", "what", "this machine", "target", "", "reference")


def _cells(row: Row) -> tuple[str, ...]:
    return (row.section, row.what, row.figure, row.target, row.verdict, row.reference)


def print_table(rows: Sequence[Row], info: dict[str, Any]) -> None:
    title = (
        f"tclaude benchmark · {info['date']} · {info['cpus']} cores · "
        f"python {info['python']} · {info['cpu']} · load {info['load_before']} → "
        f"{info.get('load_after', '?')} · {info.get('seconds', '?')} s"
    )
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # plain text when rich is missing
        print_plain(rows, title)
        return
    table = Table(title=title, title_justify="left")
    for name in COLUMNS:
        table.add_column(name, overflow="fold")
    styles = {OK: "green", OVER: "bold red", NA: "yellow"}
    for row in rows:
        cells = list(_cells(row))
        style = styles.get(row.verdict)
        if style:
            cells[4] = f"[{style}]{row.verdict}[/{style}]"
        table.add_row(*cells)
    Console(width=max(140, Console().width)).print(table)


def print_plain(rows: Sequence[Row], title: str) -> None:
    cells = [COLUMNS, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    print(title)
    for n, line in enumerate(cells):
        print("  ".join(text.ljust(widths[i]) for i, text in enumerate(line)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def markdown_table(rows: Sequence[Row]) -> str:
    """The table as Markdown, the form docs/performance.md keeps."""
    out = ["| section | what | this machine | target | | reference |", "|---|---|---|---|---|---|"]
    for row in rows:
        cells = [c.replace("|", "\\|") for c in _cells(row)]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def print_json(rows: Sequence[Row], info: dict[str, Any]) -> None:
    json.dump({"machine": info, "rows": [asdict(r) for r in rows]}, sys.stdout, indent=2)
    print()
