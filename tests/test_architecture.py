"""The house's contracts: import-linter's layers and forbidden imports, no cycles, no private imports.

The graph checker is tested on a planted package first, so a pass on the real tree means something.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def import_graph(package_dir: Path) -> tuple[dict[str, set[str]], list[str]]:
    """Module -> imported modules of the same tree, and every import of another module's ``_name``."""
    base = package_dir.parent
    modules: dict[str, Path] = {}
    for path in package_dir.rglob("*.py"):
        parts = list(path.relative_to(base).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    edges: dict[str, set[str]] = {}
    private: list[str] = []
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                stem = package[: len(package) - (node.level - 1)]
                source = ".".join([*stem, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                dest = f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                if dest not in modules or dest == name or name.startswith(dest + "."):
                    continue
                edges.setdefault(name, set()).add(dest)
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    private.append(f"{name} imports {source}.{alias.name}")
    return edges, private


def cycles(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Pairs of modules that reach each other."""

    def reaches(start: str, goal: str) -> bool:
        seen, todo = {start}, [start]
        while todo:
            for nxt in edges.get(todo.pop(), ()):
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    return sorted({tuple(sorted((a, b))) for a, targets in edges.items() for b in targets if reaches(b, a)})


def test_the_checker_finds_a_planted_cycle_and_private_import(tmp_path: Path) -> None:
    pkg = tmp_path / "planted"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from planted.sub.b import helper\n")
    (pkg / "sub" / "b.py").write_text("from ..a import _secret\n\ndef helper():\n    pass\n")
    edges, private = import_graph(pkg)
    assert cycles(edges) == [("planted.a", "planted.sub.b")]
    assert private == ["planted.sub.b imports planted.a._secret"]


@pytest.mark.parametrize("tree", ["wizard", "screens"])
def test_no_cycles_and_no_private_imports(tree: str) -> None:
    edges, private = import_graph(ROOT / tree)
    assert sum(len(v) for v in edges.values()) > 20
    assert cycles(edges) == []
    assert private == []


def test_no_package_face_hides_one_of_its_modules() -> None:
    """``from wizard.x import y`` must mean the same thing whether ``y`` is a module or a name."""
    import wizard

    hidden = []
    for info in pkgutil.walk_packages(wizard.__path__, "wizard."):
        if info.ispkg:
            package = importlib.import_module(info.name)
            modules = {m.name for m in pkgutil.iter_modules(package.__path__)}
            hidden += [f"{info.name}.{n}" for n in getattr(package, "__all__", ()) if n in modules]
    assert hidden == []


def test_every_phase_package_says_what_it_proves_or_changes() -> None:
    for phase in ("backup", "inspect", "squash", "archive", "record", "validate", "report", "checklist", "rollback"):
        doc = importlib.import_module(f"wizard.{phase}").__doc__ or ""
        assert len(doc.split()) >= 12, f"wizard.{phase} has no docstring worth the name"
        assert (ROOT / "wizard" / phase / "__init__.py").exists()


def test_import_linter_contracts_hold() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    proc = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 kept, 0 broken" in proc.stdout
