"""The package's shape: imports only point down its layers, there are no cycles, one module talks to obstore
and one makes DynamoDB clients.

Every import in ``src/rollwise`` counts, including those inside functions
(deferred to keep the Lambda cold start lean): deferring an import does not
make a cycle acceptable.
"""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"

# Lower layers never import higher ones. Within a layer, imports are allowed but must not cycle.
LAYERS = [
    # the pure core: no I/O
    {"errors", "retry", "timestamps", "periods", "windows", "sketch", "validate", "result", "threads", "config", "samples", "lambda_limits"},
    # domain models, settings and pure plans
    {
        "runs.layout",
        "runs.records",
        "runs.tables",
        "runs.aggregate",
        "runs.plan",
        "runs.settings",
        "runs.capacity",
        "summaries.model",
        "summaries.aggregate",
        "summaries.settings",
        "summaries.plan",
        "summaries.ingest.dynamodb_items",
        "summaries.ingest.mapping",
        "summaries.capacity",
        "summaries.retention",
        "summaries.stored_items",
    },
    # the storage seams
    {
        "s3_requests",
        "objects",
        "summaries.backend",
        "summaries.tenant_zones",
        "summaries.record_writes",
        "summaries.leases",
        "summaries.sdk.mirror",
        "summaries.store",
        "summaries.stores",
        "summaries.stores.sqlite",
        "summaries.stores.memory",
        "dynamodb",
        "summaries.stores.dynamodb",
        "summaries.stores.dynamodb_layout",
        "summaries.sdk.layout",
        "summaries.sdk.table",
    },
    # the jobs
    {
        "runs.archive",
        "runs.quarantine",
        "runs.commit",
        "runs.publish",
        "runs.job",
        "runs.read",
        "summaries.job",
        "summaries.admin.zone_change",
        "summaries.ingest.recorder",
        "summaries.ingest.table_import",
        "summaries.admin.export",
        "summaries.admin.reshard",
        "notify",
        "summaries.usage",
        "health",
    },
    # what people and Lambda see
    {
        "display",
        "report",
        "report.charts",
        "report.collect",
        "report.page",
        "handlers",
        "handlers.common",
        "handlers.aggregate_summaries",
        "handlers.merge_runs",
        "handlers.ingest_stream",
        "api",
        "api.settings",
        "api.problems",
        "api.tokens",
        "api.schemas",
        "api.paging",
        "api.context",
        "api.app",
        "api.routes",
        "api.routes.common",
        "api.routes.tenants",
        "api.routes.runs",
        "api.routes.health",
        "api.serve",
        "handlers.api",
    },
    # the commands
    {"demo", "cli"},
]
PACKAGES = {"", "runs", "summaries", "summaries.ingest", "summaries.admin", "summaries.sdk"}  # namespace-like package inits with no code of their own


def modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / "rollwise").rglob("*.py"):
        rel = path.relative_to(SRC / "rollwise").with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    out = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
                targets = ["rollwise." + mod if mod else "rollwise"]
            else:
                targets = [node.module or ""]
            # `from rollwise.runs import archive` imports the module rollwise.runs.archive
            targets += [f"{targets[0]}.{a.name}" for a in node.names]
        for t in targets:
            if t == "rollwise" or t.startswith("rollwise."):
                mod = t.removeprefix("rollwise").removeprefix(".")
                if mod in known and mod != name:
                    out.add(mod)
    return out


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def layer_of(name: str) -> int:
    for i, layer in enumerate(LAYERS):
        if name in layer:
            return i
    raise AssertionError(f"module rollwise.{name} is in no layer: add it to LAYERS in {__file__}")


def test_every_module_has_a_layer():
    for name in modules():
        if name not in PACKAGES:
            layer_of(name)


def test_imports_only_point_down():
    upward = []
    for name, targets in graph().items():
        if name in PACKAGES:
            continue
        for target in targets:
            if target not in PACKAGES and layer_of(target) > layer_of(name):
                upward.append(f"rollwise.{name} (layer {layer_of(name)}) imports rollwise.{target} (layer {layer_of(target)})")
    assert upward == []


def test_there_are_no_import_cycles():
    g = graph()
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(g.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(g):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_checker_sees_a_cycle_and_an_upward_import(tmp_path):
    """The two checks above can fail: a made-up pair of modules shows it."""
    (tmp_path / "a.py").write_text("from rollwise import b\n")
    (tmp_path / "b.py").write_text("def f():\n    from rollwise.a import x\n")
    assert imports_of("a", tmp_path / "a.py", {"a", "b"}) == {"b"}
    assert imports_of("b", tmp_path / "b.py", {"a", "b"}) == {"a"}  # a deferred import counts
    assert layer_of("objects") > layer_of("config")


def test_objects_is_the_only_module_that_imports_obstore():
    users = sorted(
        name
        for name, path in modules().items()
        if any(
            isinstance(n, (ast.Import, ast.ImportFrom))
            and any((getattr(n, "module", None) or "").startswith("obstore") or a.name.startswith("obstore") for a in n.names)
            for n in ast.walk(ast.parse(path.read_text()))
        )
    )
    assert users == ["objects"]


DYNAMODB_SERVICES = {"dynamodb", "dynamodbstreams"}


def dynamodb_clients_made_in(path: Path) -> int:
    """Calls that make a DynamoDB client: ``boto3.client("dynamodb")``, a session's ``create_client``, a resource."""
    return sum(
        1
        for n in ast.walk(ast.parse(path.read_text()))
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr in {"client", "create_client", "resource"}
        and any(
            isinstance(a, ast.Constant) and a.value in DYNAMODB_SERVICES
            for a in [*n.args[:1], *(k.value for k in n.keywords if k.arg == "service_name")]
        )
    )


def test_the_dynamodb_seam_is_the_only_module_that_makes_a_dynamodb_client(tmp_path):
    """Retries, patience and error translation hold for every DynamoDB request only if every one goes through
    rollwise.dynamodb: the store, the SDK's table, the history import and the CLI."""
    makers = sorted(name for name, path in modules().items() if dynamodb_clients_made_in(path))
    assert makers == ["dynamodb"]
    (tmp_path / "elsewhere.py").write_text('import boto3\nclient = boto3.client("dynamodb", region_name="eu-west-1")\n')
    assert dynamodb_clients_made_in(tmp_path / "elsewhere.py") == 1  # the check sees one made elsewhere


# The summaries wing's folders are its layers: the job (summaries/*.py) computes periods over a store; the
# backends (stores/) keep items; ingest/ writes records in; admin/ changes a store; sdk/ is the workflow SDK's
# items. Each folder, and the folders it must never import.
FOLDER_RULES = {
    "summaries": {"summaries.ingest", "summaries.admin"},
    "summaries.stores": {"summaries.ingest", "summaries.admin"},
    "summaries.sdk": {"summaries.ingest", "summaries.admin", "summaries.stores"},
    "summaries.ingest": {"summaries.admin"},
    "summaries.admin": {"summaries.ingest"},
}


def folder_of(module: str) -> str:
    """A module's folder: ``summaries.ingest.recorder`` is in ``summaries.ingest``; a package is its own folder."""
    return module if module in PACKAGES or module == "summaries.stores" else module.rpartition(".")[0]


def test_the_summaries_folders_import_only_what_is_below_them():
    crossing = sorted(
        f"rollwise.{name} imports rollwise.{target}"
        for name, targets in graph().items()
        for target in targets
        if folder_of(name) in FOLDER_RULES and any(target == f or target.startswith(f + ".") for f in FOLDER_RULES[folder_of(name)])
    )
    assert crossing == []
    assert folder_of("summaries.ingest.recorder") == "summaries.ingest" and folder_of("summaries.job") == "summaries"
