"""Print the effective configuration and where each value came from.

Sources, lowest first: defaults, $XDG_CONFIG_HOME/tclaude/config.toml,
TCLAUDE_* environment variables, command-line flags.

examples:
  tclaude config
  tclaude config --json
"""

from __future__ import annotations

import argparse

from .flags import add_json_flag


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    from .. import config, paths
    from .output import print_json

    explained = config.sources()
    if args.json:
        print_json({k: {"value": v, "source": s} for k, (v, s) in explained.items()})
        return 0
    print(f"# config file: {paths.config_file()}")
    for key, (value, source) in explained.items():
        print(f"{key} = {value!r}    # {source}; {config.DESCRIPTIONS.get(key, '')}")
    return 0
