"""The shape DESIGN.md asks for, read from the code with `ast`: no import circles among the project's modules
(imports inside functions count), and nothing below the scripts takes an argparse Namespace."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for p in (ROOT / "src").rglob("*.py")}


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Project modules `path` imports anywhere in the file (top level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in known)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph as a list of modules, or None (depth-first search with colours)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circles_among_src_modules():
    modules = project_modules()
    graph = {name: imported_modules(path, set(modules)) - {name} for name, path in modules.items()}
    assert sum(len(v) for v in graph.values()) > 50  # the reader really sees the imports
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_no_namespace_below_the_scripts():
    """Only the scripts' own helpers (src/cli.py, src/dataset/cli.py) may know argparse; everything else takes settings
    objects, so no function outside them has a parameter called `args` and no module imports argparse."""
    offenders = []
    for path in (ROOT / "src").rglob("*.py"):
        if path.name == "cli.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and "argparse" in ast.unparse(node):
                offenders.append(f"{path.relative_to(ROOT)}: imports argparse")
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if any(a.arg in ("args", "namespace") for a in node.args.args + node.args.kwonlyargs):
                    offenders.append(f"{path.relative_to(ROOT)}: {node.name}(args)")
    assert offenders == []


# The README's rooms, top to bottom: a module may import its own room, the rooms below it, and the rooms beside it on
# the same row that the row lists after it (decode -> video -> outputs, device -> errors).
ROOMS = [["src.cli", "src.webapp"], ["src.batch"], ["src.methods"], ["src.settings"], ["src.training", "src.dataset"],
         ["src.sampling"], ["src.guidance"], ["src.transformation"], ["src.evaluation"],
         ["src.gallery", "src.lora", "src.decode", "src.video", "src.outputs"], ["src.speech", "src.picture"], ["src.audio"],
         ["src.device", "src.hub", "src.spec_metadata", "src.errors"]]


def room_of(module: str) -> tuple[int, int] | None:
    for row, rooms in enumerate(ROOMS):
        for column, room in enumerate(rooms):
            if module == room or module.startswith(room + "."):
                return row, column
    return None


def test_every_import_points_down_the_rooms():
    modules = project_modules()
    unplaced = [m for m in modules if m != "src" and room_of(m) is None]
    assert unplaced == [], "add these modules to ROOMS and to the README's rooms table"
    upward = [f"{m} -> {d}" for m, path in modules.items() if m != "src"
              for d in imported_modules(path, set(modules)) if d != "src" and room_of(d) < room_of(m)]
    sideways = [f"{m} -> {d}" for m, path in modules.items() if m != "src"
                for d in imported_modules(path, set(modules)) if d != "src"
                and room_of(d)[0] == room_of(m)[0] and room_of(d)[1] < room_of(m)[1]]
    assert upward == [] and sideways == []
