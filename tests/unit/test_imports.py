"""The house's picture of imports: no package imports one above it, and the engines
import without Flask."""

import ast
import subprocess
import sys

import pytest

from portal.config import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "portal"
# Pure engines: modules that may be imported from anywhere and import no Flask.
ENGINES = (
    "portal.sla",
    "portal.scope",
    "portal.kb.analysis",
    "portal.kb.vectors",
    "portal.kb.features",
    "portal.kb.question",
    "portal.kb.ranking",
    "portal.kb.ranking_files",
    "portal.kb.spelling",
    "portal.mail.inbound",
    "portal.mail.decoding",
    "portal.mail.html_text",
    "portal.mail.replies",
    "portal.mail.headers",
    "portal.mail.authresults",
    "portal.mail.images",
    "portal.mail.tokens",
)
# Lower layers first; a package may import its own layer's packages and those below.
LAYERS = (
    {"clock", "text", "config", "params", "jsonbody", "security", "forms", "extensions", "locks"},
    {"migrations", "outbox"},
    {"kb", "calendar", "site"},
    {"accounts", "coupons"},
    {"analytics"},
    {"tickets"},
    {"wizard", "console", "admin", "editor", "api_v1", "mail"},
    {"app", "cli", "demo", "__init__"},
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def component(module: str) -> str:
    """An engine module stands alone; anything else belongs to its package."""
    for engine in ENGINES:
        if module == engine or module.startswith(engine + "."):
            return engine
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def is_module(name: str) -> bool:
    path = PROJECT_ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports():
    """(importing module, imported module) for every `portal` import at module level."""
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        if ".migrations.versions" in module:
            continue
        for node in ast.parse(path.read_text("utf-8")).body:
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                # `from portal.kb import spelling` imports the module portal.kb.spelling
                names = [
                    f"{node.module}.{alias.name}"
                    if is_module(f"{node.module}.{alias.name}")
                    else node.module
                    for alias in node.names
                ]
            else:
                continue
            for name in names:
                if name.startswith("portal."):
                    yield module, name


def test_every_package_has_a_layer():
    packages = {component(m) for m, _ in imports()} - set(ENGINES)
    assert packages - set(RANK) == set()


def test_no_package_imports_one_above_it():
    upward = sorted(
        f"{module} -> {target}"
        for module, target in imports()
        if (source := component(module)) not in ENGINES
        and (imported := component(target)) not in ENGINES
        and source != imported
        and RANK[imported] > RANK[source]
    )
    assert upward == []


def test_no_two_packages_import_each_other():
    arrows = {(component(m), component(t)) for m, t in imports() if component(m) != component(t)}
    assert sorted((a, b) for a, b in arrows if (b, a) in arrows) == []


def test_engines_import_only_engines_and_the_plain_helpers():
    allowed = set(ENGINES) | {"clock", "text"}
    found = sorted(
        f"{module} -> {target}"
        for module, target in imports()
        if component(module) in ENGINES and component(target) not in allowed | {component(module)}
    )
    assert found == []


@pytest.mark.parametrize("engine", ENGINES)
def test_an_engine_loads_no_flask(engine):
    code = f"import sys, {engine}; print(any(m.split('.')[0] == 'flask' for m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "False"
