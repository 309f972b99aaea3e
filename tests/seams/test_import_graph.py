"""Imports run one way: cli/ -> picker/ -> domain -> tmux/state; host/ and protocol/ apart."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "tmuxclaude"
LAYERS = ("cli", "picker", "host", "protocol")
# what each layer may import besides itself and the domain modules
ALLOWED = {
    "cli": {"picker", "host", "protocol"},  # cli/host.py runs a host
    "picker": set(),
    "domain": set(),
    "host": {"protocol"},
    "protocol": set(),
}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "domain"


def _imports(path: Path) -> set[str]:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    module = ".".join(rel.parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    package = package.removesuffix(".__init__")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            names = [f"{target}.{a.name}" for a in node.names] if not node.module else [target]
            found.update(names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tmuxclaude"):
            found.add(node.module or "")
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("tmuxclaude"))
    return found


def test_no_layer_imports_against_the_direction() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if rel == "tmuxclaude.__main__":
            continue  # the entry point runs the CLI
        mine = _layer(rel)
        for target in _imports(path):
            theirs = _layer(target)
            if theirs not in (mine, "domain") and theirs not in ALLOWED[mine]:
                wrong.append(f"{rel} ({mine}) imports {target} ({theirs})")
    assert wrong == []


def test_the_protocol_core_knows_no_tmux_and_no_sockets() -> None:
    for path in (PACKAGE / "protocol").glob("*.py"):
        imports = _imports(path)
        assert not any(t.startswith(("tmuxclaude.tmux", "tmuxclaude.host")) for t in imports)
        source = path.read_text(encoding="utf-8")
        assert "import socket" not in source and "subprocess" not in source, path


def test_architecture_md_lists_every_module() -> None:
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    tree = doc[doc.index("## The modules") :]
    tree = tree[: tree.index("\n```\n", tree.index("```") + 3)]
    listed = set(re.findall(r"([a-z_]+\.py)", tree))
    files = {p.name for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"}
    assert sorted(files - listed) == []
    assert sorted(listed - files - {"__init__.py"}) == []
