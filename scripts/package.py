"""Build the Lambda asset: only what the handlers import, compiled by the runtime's Python.

    python scripts/package.py [x86_64|arm64]   ->  build/lambda/<arch>/

1. The handlers' import closure is read from the source (every import, deferred ones included):
   the rollwise modules they reach, and the third-party packages those import.
2. Those packages' distributions, and what they require, pinned by uv.lock, are installed as
   wheels for the Lambda platform (no Docker); what the runtime provides (boto3 and its
   dependencies) is left out, so the asset never shadows it.
3. Every module is compiled by the runtime's Python (scripts/runtime-python.sh) into
   unchecked-hash .pyc files: /var/task is read-only, and a .pyc checked against the source's
   modification time would be recompiled on every cold start.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn, TypeGuard

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "infra"))
sys.path.insert(0, str(ROOT / "src"))

from rollwise.handlers import API_HANDLER, INGEST_HANDLER, RUNS_HANDLER, SUMMARIES_HANDLER  # noqa: E402
from rollwise_infra.runtime import PLATFORMS, PYTHON, RUNTIME_PROVIDES  # noqa: E402

SRC = ROOT / "src"


def fail(message: str) -> NoReturn:
    sys.exit(f"package: {message}")


# -- what the handlers import -----------------------------------------------------------------
def module_file(name: str) -> Path | None:
    base = SRC / Path(*name.split("."))
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def for_type_checking(node: ast.AST) -> TypeGuard[ast.If]:
    """An ``if TYPE_CHECKING:`` block: its imports are the type checker's, never made at run time."""
    return isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def run_time_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` but those under an ``if TYPE_CHECKING:`` (its ``else:`` is kept)."""
    out, todo = [], [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        todo.extend(node.orelse if for_type_checking(node) else ast.iter_child_nodes(node))
    return out


def imports_of(name: str, path: Path) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in run_time_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def closure(roots: list[str]) -> tuple[set[str], set[str]]:
    """(rollwise modules, third-party top-level packages) reachable from ``roots``.

    A third-party module imported by its dotted name (``ddsketch.pb.proto``) is read too: it may
    need a package its distribution only names as an extra (protobuf, for ddsketch's).
    """
    ours: set[str] = set()
    theirs: set[str] = set()
    read: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in ours:
            continue
        path = module_file(name)
        if path is None:
            continue  # `from rollwise.x import function`: not a module
        ours.add(name)
        parts = name.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # a module needs its packages
        for imported in imports_of(name, path):
            top = imported.split(".")[0]
            if top == "rollwise":
                todo.append(imported)
            elif top and top not in sys.stdlib_module_names and top != "__future__":
                theirs.add(top)
                if "." in imported and imported not in read:
                    read.add(imported)
                    theirs.update(third_party_imports(imported))
    return ours, theirs


def third_party_imports(dotted: str) -> set[str]:
    """Top-level packages a named third-party module imports (other than its own and the standard library's)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(dotted)
    except (ImportError, ValueError):
        return set()
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return set()
    own = dotted.split(".")[0]
    tops: set[str] = set()
    for node in ast.parse(Path(spec.origin).read_text()).body:  # unconditional imports only: not TYPE_CHECKING, not optional
        if isinstance(node, ast.Import):
            tops.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            tops.add(node.module.split(".")[0])
    return {t for t in tops if t not in (own, "__future__") and t not in sys.stdlib_module_names}


# -- which distributions --------------------------------------------------------------------------
def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distributions(top_levels: set[str]) -> set[str]:
    """The distributions providing ``top_levels`` and everything they require on the runtime's Python."""
    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    environment: dict[str, str] = {
        **{name: str(value) for name, value in default_environment().items()},
        "python_version": PYTHON,
        "python_full_version": f"{PYTHON}.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "extra": "",
    }
    provides = metadata.packages_distributions()
    skip = {normalize(d) for d in RUNTIME_PROVIDES}
    wanted = {normalize(d) for top in top_levels for d in provides.get(top, [])}
    missing = [top for top in top_levels if not provides.get(top)]
    if missing:
        fail(f"no installed distribution provides {', '.join(sorted(missing))}: run `make setup`")
    out: set[str] = set()
    todo = [d for d in wanted if d not in skip]
    while todo:
        dist = todo.pop()
        if dist in out or dist in skip:
            continue
        out.add(dist)
        for text in metadata.requires(dist) or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate(environment):
                todo.append(normalize(req.name))
    return out


def pinned(dists: set[str]) -> list[str]:
    """``name==version`` for each distribution, as uv.lock pins it."""
    export = subprocess.run(
        ["uv", "export", "--locked", "--no-dev", "--no-emit-project", "--no-hashes", "--format", "requirements-txt", "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    pins = {}
    for line in export.splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line.strip())
        if m:
            pins[normalize(m.group(1))] = f"{m.group(1)}=={m.group(2)}"
    absent = sorted(d for d in dists if d not in pins)
    if absent:
        fail(f"uv.lock pins no version of {', '.join(absent)} among the runtime dependencies")
    return sorted(pins[d] for d in dists)


# -- the interpreter ------------------------------------------------------------------------------
def runtime_python() -> str:
    done = subprocess.run(["bash", str(ROOT / "scripts" / "runtime-python.sh")], capture_output=True, text=True)
    if done.returncode:
        fail(f"the Lambda runtime's Python {PYTHON} is needed to compile the asset, and it could not be had:\n{done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]


def compile_all(python: str, folder: Path) -> None:
    # One process: the interpreter runs through its own loader, which a worker process would not.
    done = subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "1", "--invalidation-mode", "unchecked-hash", str(folder)], capture_output=True, text=True
    )
    if done.returncode:
        fail(f"compiling {folder} with Python {PYTHON} failed:\n{(done.stdout + done.stderr)[-3000:]}")


def runtime_sdk(python: str) -> Path:
    """boto3 as the runtime has it (precompiled), for checking the asset and for bench/coldstart.py."""
    target = ROOT / "build" / "runtime-python" / "sdk"
    pins = pinned_runtime()
    stamp = target / ".pins"
    if stamp.is_file() and stamp.read_text() == "\n".join(pins):
        return target
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(
        ["uv", "pip", "install", "--quiet", "--target", str(target), "--python-version", PYTHON, "--only-binary", ":all:", "--no-deps", *pins],
        check=True,
        cwd=ROOT,
    )
    compile_all(python, target)
    stamp.write_text("\n".join(pins))
    return target


def pinned_runtime() -> list[str]:
    from packaging.requirements import Requirement

    dists: set[str] = set()
    todo = ["boto3"]
    while todo:
        d = normalize(todo.pop())
        if d in dists:
            continue
        dists.add(d)
        todo.extend(Requirement(r).name for r in metadata.requires(d) or [] if "extra ==" not in r)
    return pinned(dists)


# -- the asset ---------------------------------------------------------------------------------------
def build(arch: str) -> Path:
    if arch not in PLATFORMS:
        fail(f"architecture must be one of {', '.join(PLATFORMS)}, got {arch!r}")
    python = runtime_python()
    handlers = [h.rsplit(".", 1)[0] for h in (SUMMARIES_HANDLER, RUNS_HANDLER, INGEST_HANDLER, API_HANDLER)]
    ours, theirs = closure(handlers)
    dists = distributions(theirs)
    out = ROOT / "build" / "lambda" / arch
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    pins = pinned(dists)
    (ROOT / "build" / f"requirements-lambda-{arch}.txt").write_text("\n".join(pins) + "\n")
    subprocess.run(
        [
            "uv",
            "pip",
            "install",
            "--quiet",
            "--target",
            str(out),
            "--python-platform",
            PLATFORMS[arch],
            "--python-version",
            PYTHON,
            "--only-binary",
            ":all:",
            "--no-deps",
            *pins,
        ],
        check=True,
        cwd=ROOT,
    )
    shutil.rmtree(out / "bin", ignore_errors=True)
    for leftover in out.glob(".*"):  # uv's .lock of the target folder
        leftover.unlink() if leftover.is_file() else shutil.rmtree(leftover)
    for name in sorted(ours):
        source = module_file(name) or fail(f"{name}: its source is gone")
        target = out / source.relative_to(SRC)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    for cache in out.rglob("__pycache__"):
        shutil.rmtree(cache)
    compile_all(python, out)
    if os.uname().machine == {"x86_64": "x86_64", "arm64": "aarch64"}[arch]:
        check = subprocess.run(
            [python, "-c", f"import sys; sys.path[:0] = [{str(out)!r}, {str(runtime_sdk(python))!r}]; " + "; ".join(f"import {h}" for h in handlers)],
            capture_output=True,
            text=True,
        )
        if check.returncode:
            fail(f"the handlers do not import from the asset with Python {PYTHON}:\n{check.stderr[-3000:]}")
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"{out.relative_to(ROOT)}: {size / 1e6:.1f} MB unzipped; rollwise modules: {len(ours)}; distributions: {', '.join(pins)}")
    return out


if __name__ == "__main__":
    build(sys.argv[1] if len(sys.argv) > 1 else "x86_64")
