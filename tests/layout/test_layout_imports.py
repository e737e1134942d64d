"""The package layout holds: imports point down the layers, no cycles, click only in cli/.

Read with :mod:`ast` (every import, also those inside functions), so a change that breaks the
layering fails here instead of being found by a reader months later.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[2] / "ldjfix"
TOP = {"errors", "clock", "colour"}  # foundations anyone may import; they import nothing of ldjfix
_BASE = {"ldjson", "gong"}
# what each subpackage may import besides itself and TOP; read it as the pipeline, bottom up
ALLOWED: dict[str, set[str]] = {
    "ldjson": set(),
    "gong": {"ldjson"},
    "validation": _BASE,
    "mapping": _BASE,
    "sandbox": _BASE,
    "synth": _BASE,
    "fixing": _BASE | {"validation", "mapping"},
    "loop": _BASE | {"validation", "mapping", "fixing"},
    "reporting": _BASE | {"validation", "mapping", "fixing", "loop"},
    "jobs": _BASE | {"validation", "mapping", "fixing", "loop", "reporting", "sandbox"},
    "cli": _BASE
    | {"validation", "mapping", "fixing", "loop", "reporting", "jobs", "sandbox", "synth"},
}
MAX_LINES, MAX_CLI_LINES = 400, 300


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (``ldjfix.gong.client``)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The ldjfix modules ``path`` imports (``from ldjfix.x import y`` counts y if a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("ldjfix")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ldjfix"):
            assert node.level == 0, f"{path}: relative import; use absolute ldjfix.… imports"
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in modules else node.module)
    return found


def _package_of(module: str) -> str:
    """The subpackage a module is in; "" for the package itself, the name for a top module."""
    parts = module.split(".")
    if len(parts) == 1:
        return ""
    return (
        parts[1] if (PACKAGE / parts[1]).is_dir() else ("" if parts[1] == "__main__" else parts[1])
    )


def test_layout_imports_point_down_the_layers() -> None:
    """No module imports a package above its own (the ALLOWED table)."""
    modules = _modules()
    wrong = []
    for name, path in modules.items():
        mine = _package_of(name)
        for target in _imports(path, modules):
            theirs = _package_of(target)
            if theirs in ("", mine) or theirs in TOP:
                continue
            if mine in ("", *TOP):
                if mine == "" and name in ("ldjfix", "ldjfix.__main__") and theirs == "cli":
                    continue  # the entry point
                wrong.append(f"{name} -> {target}")
            elif theirs not in ALLOWED[mine]:
                wrong.append(f"{name} -> {target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(wrong))


def test_layout_every_package_is_known() -> None:
    """Each subpackage has a row in ALLOWED, so a new one is placed on purpose."""
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(ALLOWED)


def test_layout_has_no_import_cycles() -> None:
    """The module import graph is acyclic (also through imports inside functions)."""
    modules = _modules()
    graph = {name: _imports(path, modules) & set(modules) for name, path in modules.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if _is_package_init(nxt, node):
                continue
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def _is_package_init(target: str, importer: str) -> bool:
    """``from ldjfix.cli import app`` inside ldjfix.cli's own modules names the package only."""
    return importer.startswith(target + ".")


def test_layout_click_only_in_cli() -> None:
    """The library never imports click (a CLI concern)."""
    users = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n.split(".")[0] == "click" for n in names) and rel.parts[0] != "cli":
                users.append(str(rel))
    assert not users


def test_layout_the_client_never_imports_the_sandbox() -> None:
    """Gong's client knows nothing of its simulator."""
    modules = _modules()
    for name in modules:
        if name.startswith("ldjfix.gong"):
            assert not {m for m in _imports(modules[name], modules) if ".sandbox" in m}, name


def test_layout_modules_stay_small() -> None:
    """No module over ~400 lines, no CLI module over ~300."""
    big = []
    for path in PACKAGE.rglob("*.py"):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        limit = MAX_CLI_LINES if path.parent.name == "cli" else MAX_LINES
        if lines > limit:
            big.append(f"{path.relative_to(PACKAGE)}: {lines} lines")
    assert not big
