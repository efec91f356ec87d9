"""The import layers of ``cairn`` (docs/architecture.md): a package imports only packages of its
own layer or of lower layers.

Every module under ``src/cairn`` and ``src/cairn_eval`` is parsed with :mod:`ast`; every
``import`` and ``from ... import`` of a ``cairn`` module counts, at the top of a module or
inside a function (a lazy import is still a dependency), and so does
``importlib.import_module("cairn....")`` with a literal name. The imports that break the table
today are listed in ``KNOWN_EXCEPTIONS`` with the issue that removes them; the test fails on any
other, and on an exception that is gone (so the list only shrinks).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "cairn"
EVAL_PACKAGE = SRC / "cairn_eval"  # evaluation and training: beside the runtime, not in it

# Lowest first. A package may import its own layer and every layer below it.
LAYERS: list[tuple[str, set[str]]] = [
    ("text", {"text"}),
    ("foundation", {"errors", "config", "ports", "events"}),
    ("store", {"kb"}),
    ("models", {"models"}),
    ("entity graph", {"graph"}),
    ("ingestion", {"ingest"}),
    ("search", {"search"}),
    ("library API", {"knowledge", "forgetting"}),
    ("capabilities", {"answer", "command", "tools", "charts", "synth", "synthetic", "demo"}),
    ("composition", {"compose", "__root__"}),
    ("pipeline", {"pipeline"}),
    ("serving", {"server", "mcp"}),
    ("evaluation", {"cairn_eval"}),  # src/cairn_eval: benchmarks and training, outside the runtime
    ("command line", {"cli"}),
]
LAYER_OF = {pkg: n for n, (_, pkgs) in enumerate(LAYERS) for pkg in pkgs}

# (importing module, imported module): why it is allowed for now, and the issue that ends it.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}


def package_of(module: str) -> str:
    """``cairn.kb.sqlite`` -> ``kb``; ``cairn.knowledge`` -> ``knowledge``; ``cairn`` -> root."""
    parts = module.split(".")
    if parts[0] == "cairn_eval":
        return "cairn_eval"
    return parts[1] if len(parts) > 1 else "__root__"


def module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def cairn_imports(path: Path, src: Path = SRC) -> set[str]:
    """The ``cairn`` modules a file imports, anywhere in it."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    me = module_name(path, src)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = me.split(".")
                if path.name != "__init__.py":
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                found.add(".".join([*base, *([node.module] if node.module else [])]))
            elif node.module:
                found.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return {m for m in found if m.split(".")[0] in ("cairn", "cairn_eval")}


def all_imports() -> dict[str, set[str]]:
    files = [*PACKAGE.rglob("*.py"), *EVAL_PACKAGE.rglob("*.py")]
    return {module_name(p): cairn_imports(p) for p in sorted(files)}


def upward_imports() -> dict[tuple[str, str], tuple[str, str]]:
    """Every import from a lower layer's package into a higher one's: (importer, imported)
    -> (the importer's layer, the imported's layer)."""
    out = {}
    for module, imported in all_imports().items():
        mine = LAYER_OF[package_of(module)]
        for target in imported:
            theirs = LAYER_OF[package_of(target)]
            if theirs > mine:
                out[(module, target)] = (LAYERS[mine][0], LAYERS[theirs][0])
    return out


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    missing = (packages | modules) - set(LAYER_OF)
    assert not missing, f"add these to LAYERS (and to docs/architecture.md): {sorted(missing)}"


def test_imports_go_down_the_layers() -> None:
    upward = upward_imports()
    new = {k: v for k, v in upward.items() if k not in KNOWN_EXCEPTIONS}
    assert not new, "imports against the layers (docs/architecture.md): " + "; ".join(
        f"{a} ({la}) imports {b} ({lb})" for (a, b), (la, lb) in sorted(new.items())
    )


def test_known_exceptions_still_exist() -> None:
    gone = set(KNOWN_EXCEPTIONS) - set(upward_imports())
    assert not gone, f"fixed: remove from KNOWN_EXCEPTIONS: {sorted(gone)}"


def test_the_text_toolkit_imports_nothing_else_from_cairn() -> None:
    """``cairn.text`` is the bottom layer: sentences, tokens, stemmers and spaCy loading that
    every other layer may use, so it depends on no other ``cairn`` module."""
    outside = {
        (module, target)
        for module, imported in all_imports().items()
        if package_of(module) == "text"
        for target in imported
        if package_of(target) != "text"
    }
    assert LAYER_OF["text"] == 0
    assert not outside, f"cairn.text must not import the rest of cairn: {sorted(outside)}"


def test_the_store_has_no_import_cycle() -> None:
    """Inside ``cairn.kb`` no module reaches itself, lazy imports included."""
    graph: dict[str, set[str]] = defaultdict(set)
    for module, imported in all_imports().items():
        if module.startswith("cairn.kb."):
            graph[module] = {m for m in imported if m.startswith("cairn.kb.")}

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        seen: set[str] = set()
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    return [*path, nxt]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
        return None

    cycles = [c for m in sorted(graph) if (c := cycle_from(m))]
    assert not cycles, " ; ".join(" -> ".join(c) for c in cycles)


def test_the_check_sees_what_it_checks(tmp_path: Path) -> None:
    """The parser finds top-level, lazy, relative and importlib imports."""
    pkg = tmp_path / "src" / "cairn" / "kb"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    f = pkg / "x.py"
    f.write_text(
        "import importlib\nfrom cairn.errors import StoreError\nfrom .types import Source\n"
        "def g():\n    from cairn.search import engine\n"
        "    return importlib.import_module('cairn.tools')\n"
    )
    found = cairn_imports(f, tmp_path / "src")
    assert found == {"cairn.errors", "cairn.kb.types", "cairn.search", "cairn.tools"}


def test_the_runtime_reaches_evaluation_only_from_the_command_line() -> None:
    """Benchmarks and training live in ``cairn_eval``; the runtime package imports it only in
    the CLI's thin ``cairn eval`` / ``cairn adapt`` entry points."""
    assert (EVAL_PACKAGE / "__init__.py").is_file() and not (PACKAGE / "eval").exists()
    users = {
        module
        for module, imported in all_imports().items()
        if package_of(module) not in ("cairn_eval",)
        and any(package_of(t) == "cairn_eval" for t in imported)
    }
    assert users and {package_of(m) for m in users} == {"cli"}, sorted(users)
