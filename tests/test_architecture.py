"""The package's shape, read from its source with `ast`: no import cycles, and the two wings
keep to their sides.

Every module of src/dlscratch is parsed (nothing is imported) and every import in it counts:
at module level, inside functions (a lazy import still runs, and can still close a cycle), in
try/except. An import names its module(s):

    import dlscratch.a.b            -> dlscratch.a.b
    from dlscratch.a import b       -> dlscratch.a.b if b is a submodule, else dlscratch.a
    from . import b / from .x import y   resolved against the importing module's package
    importlib.import_module("dlscratch.a")  (and f"dlscratch.a.{name}": every module under it)

Python runs a package's __init__ before any of its submodules, so importing dlscratch.a.b also
depends on dlscratch.a (and dlscratch): that implied edge to a parent package counts, except to
the importing module's own ancestors (they are already being imported when it runs). A package
__init__ is a node of its own. Imports under `if TYPE_CHECKING:` never run: they are kept out of
the cycle check but still obey the wing rules.

The rules (all on direct imports):
  1. no import cycle among dlscratch modules;
  2. the course wing (functions, gradient, graph, layers, init, optim, nets, train, metrics,
     errors, perceptron) imports none of dlscratch.train, .data, .cli, .experiments, .plots or
     matplotlib - except dlscratch.train itself, which uses the course wing (and dlscratch.io);
  3. dlscratch.layers.* uses the kernel wing only through the package dlscratch.kernels (its
     public functions), never a kernel module such as dlscratch.kernels.conv;
  4. the kernel wing imports dlscratch.layers / dlscratch.nets only in its data-parallel
     modules (data_parallel and the replicas, lockstep, worker processes and pool it runs);
  5. layers and nets never import dlscratch.io (model files know the layers, not the reverse).
"""

from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "dlscratch"
SRC = Path(__file__).resolve().parents[1] / "src" / PACKAGE

COURSE_WING = ("functions", "gradient", "graph", "layers", "init", "optim", "nets", "train",
               "metrics", "errors", "perceptron")
NOT_FOR_THE_COURSE = ("train", "data", "cli", "experiments", "plots")  # + matplotlib
KERNEL_WING = "kernels"
# the kernel modules that know layers and networks: data parallelism runs whole networks
KERNEL_BRIDGES = ("kernels.data_parallel", "kernels.replicas", "kernels.lockstep",
                  "kernels.process_pool", "kernels.worker")
# deprecated top-level aliases of kernel modules: for rule 3 they are those modules
KERNEL_ALIASES = {"parallel": "kernels.pool"}


@dataclass(frozen=True)
class Edge:
    source: str  # importing module
    target: str  # imported module: a dlscratch module, or an outside one ("matplotlib.pyplot")
    where: str  # file:line of the import statement
    implied: bool = False  # the parent package of an imported module, run before it
    typing_only: bool = False  # under `if TYPE_CHECKING:`: never runs


# -- reading the source ----------------------------------------------------------------------
def find_modules(root: Path) -> dict[str, Path]:
    """Module name -> file, for every .py under root (a package __init__ is named as the
    package)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join([PACKAGE, *parts])] = path
    return modules


def ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def is_within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _typing_only_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes under `if TYPE_CHECKING:` / `if typing.TYPE_CHECKING:`."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else (
                test.attr if isinstance(test, ast.Attribute) else None)
            if name == "TYPE_CHECKING":
                for stmt in node.body:
                    found.update(id(n) for n in ast.walk(stmt))
    return found


def _dynamic_import_target(node: ast.Call) -> str | None:
    """"a.b" for importlib.import_module("a.b"); "a.b.*" for import_module(f"a.b.{x}")
    (then: the modules a.b.NAME for every string constant NAME of the file)."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name != "import_module" or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        prefix = str(arg.values[0].value)
        return prefix + "*" if prefix.endswith(".") else None
    return None


def module_imports(name: str, path: Path, modules: dict[str, Path]) -> list[Edge]:
    """Every import of one module, as edges (see the module docstring)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    own_package = name if is_package else name.rpartition(".")[0]
    typing_only = _typing_only_nodes(tree)
    mine = set(ancestors(name)) | {name}
    file = "/".join(name.split(".")) + ("/__init__.py" if is_package else ".py")
    strings = {n.value for n in ast.walk(tree)
               if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    edges: list[Edge] = []

    def add(target: str, line: int, node: ast.AST, implied: bool = False) -> None:
        if target == name or (implied and target in mine):
            return
        edges.append(Edge(name, target, f"{file}:{line}", implied, id(node) in typing_only))

    def add_module(target: str, line: int, node: ast.AST) -> None:
        """An imported module and, implied, each of its parent packages."""
        if is_within(target, PACKAGE) and target not in modules:
            # "import pkg.x.name"-style names that are not files: the longest module prefix
            while target not in modules and "." in target:
                target = target.rpartition(".")[0]
        add(target, line, node)
        for parent in ancestors(target):
            add(parent, line, node, implied=True)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add_module(alias.name, node.lineno, node)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = own_package.split(".")
                if node.level - 1 > 0:
                    base_parts = base_parts[:-(node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names_attribute = False
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if alias.name != "*" and sub in modules:
                    add_module(sub, node.lineno, node)
                else:
                    names_attribute = True
            if names_attribute:
                add_module(base, node.lineno, node)
            else:  # only submodules named: base still runs first
                add(base, node.lineno, node, implied=True)
                for parent in ancestors(base):
                    add(parent, node.lineno, node, implied=True)
        elif isinstance(node, ast.Call):
            target = _dynamic_import_target(node)
            if target is None:
                continue
            if target.endswith("*"):
                for other in sorted(modules):
                    if other.startswith(target[:-1]) and other[len(target) - 1:] in strings:
                        add_module(other, node.lineno, node)
            else:
                add_module(target, node.lineno, node)
    return edges


def read_package(root: Path) -> tuple[dict[str, Path], list[Edge]]:
    """The modules of the package at root (named dlscratch) and all their imports."""
    modules = find_modules(root)
    edges = [e for name, path in modules.items() for e in module_imports(name, path, modules)]
    return modules, edges


# -- the checks ------------------------------------------------------------------------------
def import_graph(modules, edges) -> dict[str, dict[str, Edge]]:
    """source -> {target: its edge (a direct one if any, the first in the file)}, dlscratch
    modules only, without typing-only edges."""
    graph: dict[str, dict[str, Edge]] = {m: {} for m in modules}
    for e in sorted(edges, key=lambda e: (e.implied, int(e.where.rpartition(":")[2]))):
        if e.target in modules and not e.typing_only:
            graph[e.source].setdefault(e.target, e)
    return graph


def strongly_connected(graph: dict[str, dict]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module (iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            advanced = False
            for target in targets:
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.get(target, ())))))
                    advanced = True
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def shortest_cycle(graph: dict[str, dict], component: list[str]) -> list[str]:
    """A shortest cycle through the component's first module, staying inside the component:
    [m0, m1, ..., m0]."""
    inside, start = set(component), component[0]
    came_from = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph[node]):
            if target == start:
                path = [node]
                while came_from[path[-1]] is not None:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if target in inside and target not in came_from:
                came_from[target] = node
                queue.append(target)
    raise AssertionError(f"no cycle through {start} in {component}")  # not a component


def describe_cycle(graph, cycle: list[str]) -> str:
    steps = []
    for source, target in zip(cycle[:-1], cycle[1:], strict=True):
        e = graph[source][target]
        how = " (parent package, implied)" if e.implied else ""
        steps.append(f"{source} -> {target}{how} at {e.where}")
    return "\n      ".join(steps)


def find_cycles(modules, edges) -> list[str]:
    """One message per group of modules that import each other: a shortest cycle, edge by
    edge, and every module of the group."""
    graph = import_graph(modules, edges)
    found = []
    for component in strongly_connected(graph):
        cycle = shortest_cycle(graph, component)
        found.append(f"cycle {' -> '.join(cycle)}:\n      {describe_cycle(graph, cycle)}\n"
                     f"    (all {len(component)} modules on cycles with it: "
                     f"{', '.join(component)})")
    return found


def _in(name: str, *relatives: str) -> bool:
    return any(is_within(name, f"{PACKAGE}.{r}") for r in relatives)


def rule_violations(edges: list[Edge]) -> list[str]:
    """Rules 2-5 of the module docstring, on the direct (not implied) imports:
    one line "SOURCE imports TARGET: why (file:line)" per broken rule."""
    found = []
    for e in edges:
        if e.implied:
            continue
        src, dst = e.source, e.target

        def broken(why: str, src=src, dst=dst, e=e) -> None:
            found.append(f"{src} imports {dst}: {why} ({e.where})")

        if _in(src, *COURSE_WING):
            banned = [r for r in NOT_FOR_THE_COURSE if not (r == "train" and _in(src, "train"))]
            if _in(dst, *banned) or is_within(dst, "matplotlib"):
                broken("the course wing must not import training, data, CLI, experiments or "
                       "plotting")
        if _in(src, "layers"):
            alias = KERNEL_ALIASES.get(dst.removeprefix(PACKAGE + "."))
            kernel = f"{PACKAGE}.{alias}" if alias else dst
            if _in(kernel, KERNEL_WING) and kernel != f"{PACKAGE}.{KERNEL_WING}":
                broken(f"a layer uses the kernel wing only through the package "
                       f"{PACKAGE}.{KERNEL_WING}")
        if _in(src, KERNEL_WING) and not _in(src, *KERNEL_BRIDGES) and _in(dst, "layers", "nets"):
            broken("only the data-parallel modules of the kernel wing may know layers/networks")
        if _in(src, "layers", "nets") and _in(dst, "io"):
            broken("model files know the layers, never the reverse")
    return sorted(set(found))


# -- the package -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def package():
    assert (SRC / "__init__.py").exists(), SRC
    return read_package(SRC)


def test_the_reader_sees_the_package(package):
    modules, edges = package
    for name in ("dlscratch", "dlscratch.kernels", "dlscratch.kernels.data_parallel",
                 "dlscratch.layers.convolution", "dlscratch.train.trainer",
                 "dlscratch.parallel", "dlscratch.layers.im2col"):
        assert name in modules, name
    pairs = {(e.source, e.target) for e in edges if not e.implied}
    # `from dlscratch import kernels` names the module dlscratch.kernels
    assert ("dlscratch.layers.convolution", "dlscratch.kernels") in pairs
    assert ("dlscratch.kernels.data_parallel", "dlscratch.layers") in pairs
    assert ("dlscratch.nets.sequential", "dlscratch.layers") in pairs
    assert len(edges) > 100


def test_no_import_cycles(package):
    modules, edges = package
    cycles = find_cycles(modules, edges)
    assert not cycles, "import cycles among dlscratch modules:\n  " + "\n  ".join(cycles)


def test_the_wings_keep_to_their_sides(package):
    _, edges = package
    found = rule_violations(edges)
    assert not found, "architecture rules broken:\n  " + "\n  ".join(found)


# -- the checks can fail: synthetic graphs and packages -------------------------------------
def _graph(pairs: dict[str, str]) -> dict[str, dict[str, Edge]]:
    graph: dict[str, dict[str, Edge]] = {}
    for source, targets in pairs.items():
        graph.setdefault(source, {})
        for target in targets.split():
            graph.setdefault(target, {})
            graph[source][target] = Edge(source, target, 1)
    return graph


def test_cycle_finder_on_synthetic_graphs():
    assert strongly_connected(_graph({"a": "b c", "b": "c", "c": "", "d": "a"})) == []
    graph = _graph({"a": "b", "b": "c", "c": "a d", "d": "e", "e": "d", "f": "a"})
    components = strongly_connected(graph)
    assert components == [["a", "b", "c"], ["d", "e"]]
    assert [shortest_cycle(graph, c) for c in components] == [["a", "b", "c", "a"],
                                                               ["d", "e", "d"]]
    # the shortest way back, not the first found
    graph = _graph({"a": "b x", "b": "c", "c": "a", "x": "a"})
    assert shortest_cycle(graph, strongly_connected(graph)[0]) == ["a", "x", "a"]
    # a long chain: no recursion limit
    chain = {f"m{i}": f"m{i + 1}" for i in range(5000)}
    assert strongly_connected(_graph(chain)) == []
    chain["m5000"] = "m0"
    assert len(strongly_connected(_graph(chain))[0]) == 5001


def _write_package(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "dlscratch"
    for rel, text in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for path in list(pkg.rglob("*")):  # every folder a package
        if path.is_dir() and not (path / "__init__.py").exists():
            (path / "__init__.py").write_text("")
    if not (pkg / "__init__.py").exists():
        (pkg / "__init__.py").write_text("")
    return pkg


def test_the_reader_resolves_every_import_form(tmp_path):
    pkg = _write_package(tmp_path, {
        "kernels/__init__.py": "from dlscratch.kernels import conv\n",
        "kernels/conv.py": "",
        "layers/__init__.py": "from .affine import Affine\n",
        "layers/affine.py": "from dlscratch import kernels\nfrom .. import functions\n"
                            "from . import base\nimport dlscratch.init as init\n",
        "layers/base.py": "def f():\n    from dlscratch.nets.sequential import Sequential\n",
        "layers/typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                           "    from dlscratch.train import Trainer\n",
        "layers/res.py": "from dlscratch.layers import Affine\n",
        "nets/sequential.py": "",
        "functions.py": "", "init.py": "", "train/__init__.py": "",
        "experiments/registry.py": "import importlib\nNAMES = ('e01', 'e02')\n"
                                   "def load(n):\n    return importlib.import_module("
                                   "f'dlscratch.experiments.{n}')\n",
        "experiments/e01.py": "", "experiments/e02.py": "", "experiments/report.py": "",
    })
    modules, edges = read_package(pkg)
    got = {(e.source, e.target, e.implied, e.typing_only) for e in edges}
    expected = {
        ("dlscratch.kernels", "dlscratch.kernels.conv", False, False),
        ("dlscratch.layers", "dlscratch.layers.affine", False, False),
        ("dlscratch.layers.affine", "dlscratch.kernels", False, False),
        ("dlscratch.layers.affine", "dlscratch.functions", False, False),
        ("dlscratch.layers.affine", "dlscratch.layers.base", False, False),
        ("dlscratch.layers.affine", "dlscratch.init", False, False),
        # an import inside a function counts, and so does the parent package it runs first
        ("dlscratch.layers.base", "dlscratch.nets.sequential", False, False),
        ("dlscratch.layers.base", "dlscratch.nets", True, False),
        ("dlscratch.layers.typed", "dlscratch.train", False, True),
        ("dlscratch.layers.typed", "typing", False, False),
        ("dlscratch.experiments.registry", "importlib", False, False),
        ("dlscratch.experiments.registry", "dlscratch.experiments.e01", False, False),
        ("dlscratch.experiments.registry", "dlscratch.experiments.e02", False, False),
        # a name taken from an ancestor package is a real import of its __init__
        ("dlscratch.layers.res", "dlscratch.layers", False, False),
    }  # the f-string's modules are the ones the file names (not report, not registry itself)
    assert got == expected, sorted(got ^ expected)
    # own ancestors (dlscratch, dlscratch.layers for a layer) are never implied edges
    assert not any(e.implied and e.target in ancestors(e.source) for e in edges)
    assert find_cycles(modules, edges) == []
    assert [line.split(":")[0] for line in rule_violations(edges)] == [
        "dlscratch.layers.typed imports dlscratch.train"]  # typing-only imports obey the rules


def test_a_parent_package_can_close_a_cycle(tmp_path):
    # kernels/__init__ lazily imports kernels.bridge; bridge imports layers.affine, whose
    # package __init__ runs first and imports layers.conv, which uses kernels: a cycle only
    # through the implied edge to the parent package dlscratch.layers.
    pkg = _write_package(tmp_path, {
        "kernels/__init__.py": "def __getattr__(name):\n"
                               "    from dlscratch.kernels.bridge import Thing\n"
                               "    return Thing\n",
        "kernels/bridge.py": "from dlscratch.layers.affine import Affine\n",
        "layers/__init__.py": "from dlscratch.layers.conv import Conv\n",
        "layers/conv.py": "from dlscratch import kernels\n",
        "layers/affine.py": "",
    })
    modules, edges = read_package(pkg)
    cycles = find_cycles(modules, edges)
    assert len(cycles) == 1, cycles
    assert cycles[0].startswith("cycle dlscratch.kernels -> dlscratch.kernels.bridge -> "
                                "dlscratch.layers -> dlscratch.layers.conv -> dlscratch.kernels")
    assert "(parent package, implied)" in cycles[0]
    assert "dlscratch/kernels/__init__.py:2" in cycles[0]


def test_each_rule_can_fail(tmp_path):
    pkg = _write_package(tmp_path, {
        "kernels/__init__.py": "", "kernels/conv.py": "", "kernels/pool.py": "",
        "kernels/data_parallel.py": "from dlscratch.layers import Affine\n",  # allowed
        "kernels/fast.py": "from dlscratch.nets import sequential\n",  # rule 4
        "layers/__init__.py": "",
        "layers/good.py": "from dlscratch.kernels import conv2d\nimport dlscratch.kernels\n",
        "layers/conv.py": "from dlscratch.kernels import conv\n",  # rule 3
        "layers/pool.py": "from ..kernels.pool import run_chunks\n",  # rule 3
        "layers/old.py": "from dlscratch.parallel import run_chunks\n",  # rule 3 (an alias)
        "layers/save.py": "def save():\n    from dlscratch.io import atomic\n",  # rule 5
        "nets/__init__.py": "", "nets/sequential.py": "import dlscratch.io\n",  # rule 5
        "io/__init__.py": "", "io/atomic.py": "",
        "optim/__init__.py": "import matplotlib.pyplot as plt\n",  # rule 2
        "metrics.py": "from dlscratch.data import load_dataset\n",  # rule 2
        "init.py": "from dlscratch import plots\n",  # rule 2
        "gradient.py": "from dlscratch.experiments import base\n",  # rule 2
        "functions.py": "from dlscratch.cli import main\n",  # rule 2
        "errors.py": "from dlscratch.train import Trainer\n",  # rule 2
        "train/__init__.py": "from dlscratch.train.trainer import Trainer\n",  # allowed
        "train/trainer.py": "from dlscratch.io.atomic import x\nfrom dlscratch.nets import y\n"
                            "from dlscratch.data import z\n",  # data: rule 2; io, nets: fine
        "parallel.py": "from dlscratch.kernels.pool import run_chunks\n",
        "plots.py": "", "data/__init__.py": "", "cli/main.py": "", "experiments/base.py": "",
    })
    _, edges = read_package(pkg)
    found = rule_violations(edges)
    expected = {
        "dlscratch.kernels.fast": "dlscratch.nets.sequential",
        "dlscratch.layers.conv": "dlscratch.kernels.conv",
        "dlscratch.layers.pool": "dlscratch.kernels.pool",
        "dlscratch.layers.old": "dlscratch.parallel",
        "dlscratch.layers.save": "dlscratch.io.atomic",
        "dlscratch.nets.sequential": "dlscratch.io",
        "dlscratch.optim": "matplotlib.pyplot",
        "dlscratch.metrics": "dlscratch.data",
        "dlscratch.init": "dlscratch.plots",
        "dlscratch.gradient": "dlscratch.experiments.base",
        "dlscratch.functions": "dlscratch.cli.main",
        "dlscratch.errors": "dlscratch.train",
        "dlscratch.train.trainer": "dlscratch.data",
    }
    got = {line.split(" imports ")[0]: line.split(" imports ")[1].split(":")[0] for line in found}
    assert got == expected, "\n".join(found)
    assert len(found) == len(expected), "\n".join(found)
