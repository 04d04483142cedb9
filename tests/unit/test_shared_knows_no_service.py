"""shared/ is the library every service builds on and knows none of them: no module under shared/
(but the published contracts, shared/contracts/) imports a service's module or names one in a string
(an importlib by name), so adding a service never touches shared/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
SERVICE_PACKAGES = ("services", "workflows", "edih")
# A dotted module path into a service package, as importlib.import_module or a string target takes it.
NAMED_MODULE = re.compile(rf"^({'|'.join(SERVICE_PACKAGES)})(\.\w+)*$|\b(services|workflows)\.(\w|$)")


def library_modules() -> list[Path]:
    return sorted(p for p in SHARED.rglob("*.py") if SHARED / "contracts" not in p.parents)


def docstrings(tree: ast.Module) -> set[int]:
    """The ids of the docstring nodes, prose about services that names no module to load."""
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(
        n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))]
    return {id(node.body[0].value) for node in nodes if ast.get_docstring(node) is not None  # type: ignore[union-attr]
            and isinstance(node.body[0], ast.Expr)}


def service_references(source: str) -> list[str]:
    """What in `source` imports or names a service's module."""
    tree = ast.parse(source)
    found = []
    skip = docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] in SERVICE_PACKAGES]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in SERVICE_PACKAGES:
                found.append(node.module)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if NAMED_MODULE.search(node.value):
                found.append(repr(node.value))
    return found


def test_no_module_of_shared_imports_or_names_a_service():
    offenders = {str(path.relative_to(SHARED.parent)): refs for path in library_modules()
                 if (refs := service_references(path.read_text()))}
    assert offenders == {}, "shared/ must know no service (a service registers itself instead)"


def test_the_check_sees_an_import_a_local_import_and_an_importlib_by_name():
    assert service_references("from services.intake.models import MODELS") == ["services.intake.models"]
    assert service_references("def f():\n    import workflows.models\n") == ["workflows.models"]
    assert service_references("import importlib\nimportlib.import_module(f'services.{name}.models')")
    assert service_references("PACKAGE = 'workflows'")
    assert service_references('"""The services talk by events (services/ and workflows/)."""') == []
