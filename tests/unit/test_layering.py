"""The project's layers, checked by walking every import statement (judge/README.md states the rules).

Dependencies point one way: web/ and worker/ use judge/, which uses sandbox/. The command line
(judge/cli/) and the benchmarks (judge/bench/) sit on top of the engine (the rest of judge/): they
may import it, it never imports them. sandbox/ imports nothing of the project, and web/ never
imports sandbox/ (it reaches boxes through the engine only). Imports inside functions count too.
Within web/, the pages call the service as the API's views do, never the views themselves (of
web/api/ they may use only its errors), and only the entry points import the app factory.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PROJECT = ("judge", "sandbox", "web", "worker")
EDGE = ("judge.cli", "judge.bench")  # the command line and the benchmarks: not the engine
COMMAND_ENTRY = ("judge.__main__",)  # `python -m judge` is the command line too
WEB_ENTRY = ("web.main", "web.wsgi")  # what starts the web: the only importers of web.app


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in the file, relative ones resolved; `from x import y` gives x.y."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def _files(top: str) -> list[Path]:
    return sorted(p for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts)


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _violations(
    tops: tuple[str, ...], forbidden: tuple[str, ...], *, skip: tuple[str, ...] = ()
) -> list[str]:
    found = []
    for top in tops:
        for path in _files(top):
            if _within(_module_name(path), skip):
                continue
            for line, module in _imports(path):
                if _within(module, forbidden):
                    found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return sorted(set(found))


def test_the_engine_imports_neither_the_command_line_nor_the_benchmarks() -> None:
    assert _violations(("judge",), EDGE, skip=EDGE + COMMAND_ENTRY) == []


def test_the_engine_imports_neither_web_nor_worker() -> None:
    assert _violations(("judge",), ("web", "worker"), skip=EDGE + COMMAND_ENTRY) == []


def test_web_and_worker_do_not_import_the_command_line_or_the_benchmarks() -> None:
    assert _violations(("web", "worker"), EDGE) == []


def test_pages_import_no_api_view() -> None:
    api_views = tuple(
        f"web.api.{p.stem}"
        for p in (ROOT / "web" / "api").glob("*.py")
        if p.stem not in ("__init__", "errors")
    )
    assert "web.api.submissions" in api_views
    found = _violations(("web/pages",), api_views + ("web.api.blueprint",))
    assert found == []


def test_only_the_entry_points_import_the_app_factory() -> None:
    assert _violations(("web", "worker", "judge"), ("web.app",), skip=WEB_ENTRY + ("web.app",)) == []


def test_sandbox_imports_nothing_of_the_project() -> None:
    assert _violations(("sandbox",), ("judge", "web", "worker")) == []


def test_web_never_imports_sandbox() -> None:
    assert _violations(("web",), ("sandbox",)) == []


@pytest.mark.parametrize("top", PROJECT)
def test_the_walk_sees_imports(top: str) -> None:
    """A guard for the walk itself: every layer has files, and relative imports resolve into the project."""
    files = _files(top)
    assert files
    seen = {module for path in files for _, module in _imports(path)}
    assert any(_within(m, PROJECT) for m in seen), top
