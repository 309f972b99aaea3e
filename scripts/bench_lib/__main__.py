"""``scripts/bench [ide|cli|status|observe|remote|all] [--runs N] [--instances N] [--json]``.

A benchmark, not a test: it prints what this machine does against the
targets of DESIGN.md ("Targets"). Figures are medians and percentiles over
repeated runs. Everything runs in a sandbox (temp HOME, CLAUDE_CONFIG_DIR,
runtime dir, private tmux socket) that is torn down on every way out.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from types import FrameType

from . import cli, ide, observe, remote, report, status
from .report import Row
from .sandbox import Interrupted, Sandbox

SECTIONS = ("ide", "cli", "status", "observe", "remote")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("section", nargs="?", default="all", choices=(*SECTIONS, "all"))
    parser.add_argument(
        "--runs",
        type=int,
        default=None,
        help="repetitions for medians: host starts (ide, default 20), commands (cli, default 10)",
    )
    parser.add_argument(
        "--instances",
        type=int,
        default=50,
        help="hosts for the scaling run, and the largest `list` size (default 50)",
    )
    parser.add_argument(
        "--calls", type=int, default=10_000, help="timed tool calls (default 10000)"
    )
    parser.add_argument("--warmup", type=int, default=500, help="warm-up calls (default 500)")
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=10.0,
        help="window for idle CPU figures (default 10)",
    )
    parser.add_argument("--json", action="store_true", help="rows as JSON on stdout")
    parser.add_argument(
        "--markdown", action="store_true", help="the table as Markdown (docs/performance.md)"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="more detail on stderr (memory map)"
    )
    return parser


def _log(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C, SIGTERM, SIGHUP: unwind (asyncio.run keeps a handler that is not the default)."""
    del frame
    Interrupted.flag = True
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.runs is not None and args.runs < 1:
        _parser().error("--runs must be at least 1")
    if args.instances < 1:
        _parser().error("--instances must be at least 1")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    sections = SECTIONS if args.section == "all" else (args.section,)
    info = report.machine()
    rows: list[Row] = []
    started = time.monotonic()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > (os.cpu_count() or 1) / 2:
        _log(f"warning: load average {load:.2f} on {os.cpu_count()} cores; figures will be noisy")
    box = Sandbox()
    _log(f"sandbox {box.root}, tmux socket -L {box.tmux_socket}")
    try:
        if "ide" in sections:
            opts = ide.Options(
                starts=args.runs or 20,
                calls=args.calls,
                warmup=args.warmup,
                instances=args.instances,
                idle_seconds=args.idle_seconds,
                verbose=args.verbose,
            )
            rows += ide.run(box, opts, _log)
        if "cli" in sections:
            rows += cli.run(
                box,
                cli.Options(runs=args.runs or 10, instances=args.instances, verbose=args.verbose),
                _log,
            )
        if "status" in sections:
            rows += status.run(box, _log)
        if "observe" in sections:
            rows += observe.run(box, _log)
        if "remote" in sections:
            rows += remote.run(box, _log, args.runs or 10)
    except KeyboardInterrupt:
        _log("interrupted; cleaning up")
        return 130
    finally:
        killed = box.close()
        for line in killed:
            _log(f"had to kill a leftover: {line}")
    info["seconds"] = round(time.monotonic() - started, 1)
    info["load_after"] = report.load_average()
    if args.json:
        report.print_json(rows, info)
    elif args.markdown:
        print(report.markdown_table(rows))
    else:
        report.print_table(rows, info)
    _log(f"done in {info['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
