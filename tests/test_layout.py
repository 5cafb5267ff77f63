"""The package's layout by stage, read from the source with :mod:`ast` (nothing is imported).

An item travels generator → validation → log → live feed → HTTP → page/CLI, and the folders
``generation``, ``log``, ``live``, ``http`` and ``cli`` are those stages. These tests keep
the layout honest: no two folders import each other, routes reach the log only through
``Services``, and every module stays small enough to read.

Every import counts, wherever it is: at module level, inside a function (imported late to
save start-up time) or under ``TYPE_CHECKING`` — each is still a dependency.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "bulkgen"
PACKAGE = "bulkgen"
STAGES = ("generation", "log", "live", "http", "cli")
MAX_LINES = 400
#: Decorators and calls that make a module define routes (FastAPI / Starlette).
ROUTE_DECORATORS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "trace", "api_route", "route"}
)
ROUTE_CALLS = frozenset({"APIRouter", "add_api_route", "add_route", "add_websocket_route"})


@dataclass(frozen=True, slots=True)
class Import:
    """One import of a bulkgen module by a bulkgen module."""

    source: str  # the importing module, e.g. bulkgen.http.stream
    target: str  # the module imported from, e.g. bulkgen.log.store
    names: tuple[str, ...]  # what a ``from`` import takes; () for ``import x``
    path: Path
    line: int

    def __str__(self) -> str:
        taken = f" ({', '.join(self.names)})" if self.names else ""
        where = f"{self.path.relative_to(ROOT)}:{self.line}"
        return f"{where}: {self.source} imports {self.target}{taken}"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(SRC.rglob("*.py"))}


def node(module: str) -> str:
    """The folder a module belongs to; a top-level module is its own node."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else PACKAGE


def is_bulkgen(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def imports_of(source: str) -> list[Import]:
    path = MODULES[source]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    found: list[Import] = []
    for statement in ast.walk(tree):
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                found.append(Import(source, alias.name, (), path, statement.lineno))
        elif isinstance(statement, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - statement.level + 1] if statement.level else []
            module = ".".join([*base, *([statement.module] if statement.module else [])])
            by_target: dict[str, list[str]] = defaultdict(list)
            for alias in statement.names:
                # ``from bulkgen.http import stream`` imports the module bulkgen.http.stream.
                submodule = f"{module}.{alias.name}"
                by_target[submodule if submodule in MODULES else module].append(alias.name)
            for target, names in by_target.items():
                found.append(Import(source, target, tuple(names), path, statement.lineno))
    return [found_import for found_import in found if is_bulkgen(found_import.target)]


ALL_IMPORTS = [found for source in MODULES for found in imports_of(source)]


def folder_edges() -> dict[tuple[str, str], list[Import]]:
    """Imports between nodes, grouped by (importing node, imported node).

    The package root is left out as an importer: it is the public surface, which names things
    from every stage (see ``test_the_package_root_lends_only_its_version``).
    """
    edges: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for found in ALL_IMPORTS:
        source, target = node(found.source), node(found.target)
        if source != target and source != PACKAGE:
            edges[source, target].append(found)
    return edges


def cycles(edges: dict[tuple[str, str], list[Import]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in edges:
        graph[source].add(target)
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(current: str) -> None:
        order[current] = low[current] = len(order)
        stack.append(current)
        for following in sorted(graph[current]):
            if following not in order:
                visit(following)
                low[current] = min(low[current], low[following])
            elif following in stack:
                low[current] = min(low[current], order[following])
        if low[current] == order[current]:
            component: list[str] = []
            while not component or component[-1] != current:
                component.append(stack.pop())
            if len(component) > 1:
                components.append(sorted(component))

    for start in sorted(graph):
        if start not in order:
            visit(start)
    return components


def defines_routes(module: str) -> bool:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for statement in ast.walk(tree):
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in statement.decorator_list:
                called = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(called, ast.Attribute) and called.attr in ROUTE_DECORATORS:
                    return True
        if isinstance(statement, ast.Call):
            called = statement.func
            name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
            if name in ROUTE_CALLS:
                return True
    return False


def listing(imports: list[Import]) -> str:
    return "\n".join(f"  {found}" for found in imports)


def test_the_stages_are_folders_and_the_graph_sees_them() -> None:
    for stage in STAGES:
        assert (SRC / stage / "__init__.py").is_file(), f"stage folder {stage}/ is missing"
    edges = folder_edges()
    # A few dependencies the flow cannot do without: an empty graph would pass vacuously.
    for expected in [("generation", "log"), ("live", "log"), ("http", "services")]:
        assert expected in edges, f"no import {expected[0]} → {expected[1]} found"


def test_no_two_folders_import_each_other() -> None:
    edges = folder_edges()
    problems = []
    for component in cycles(edges):
        inside = [
            found
            for (source, target), found_imports in sorted(edges.items())
            if source in component and target in component
            for found in found_imports
        ]
        problems.append(f"cycle between {', '.join(component)}:\n{listing(inside)}")
    assert not problems, "folders import each other:\n" + "\n".join(problems)


def test_the_package_root_lends_only_its_version() -> None:
    """Modules inside bulkgen import from where things are defined, not from the surface.

    The root re-exports every stage, so an import of anything else from it would hide a
    dependency on that stage from the folder graph.
    """
    through_root = [
        found
        for found in ALL_IMPORTS
        if found.target == PACKAGE and found.source != PACKAGE and found.names != ("__version__",)
    ]
    assert not through_root, "import from the package root:\n" + listing(through_root)


def test_routes_reach_the_log_only_through_services() -> None:
    route_modules = [
        module for module in MODULES if node(module) == "http" and defines_routes(module)
    ]
    assert route_modules, "no module in http/ defines routes"
    offending = [
        found
        for found in ALL_IMPORTS
        if found.source in route_modules and node(found.target) == "log"
    ]
    assert not offending, (
        "routes go through Services, but these HTTP modules import the log:\n" + listing(offending)
    )


def test_every_module_is_small() -> None:
    sizes = {path: len(path.read_text(encoding="utf-8").splitlines()) for path in MODULES.values()}
    too_long = [
        f"  {path.relative_to(ROOT)}: {lines} lines"
        for path, lines in sorted(sizes.items())
        if lines > MAX_LINES
    ]
    assert not too_long, f"modules over {MAX_LINES} lines (split by concept):\n" + "\n".join(
        too_long
    )
