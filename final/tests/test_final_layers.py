"""The shape of final/app, read from its imports: two domains that never import each other
both ways, infrastructure that imports no domain, no import cycle, and the lifespan's objects
reached through one typed place.

    infrastructure (app/*.py but main.py, app/security/)  <-  users/  <-  auth/  <-  main.py
"""

import ast
import re
from pathlib import Path

APP_DIR = Path(__file__).resolve().parents[1] / "app"
DOMAINS = ("app.users", "app.auth")


def module_name(path: Path) -> str:
    parts = path.relative_to(APP_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(APP_DIR.rglob("*.py"))}


def imports_of(path: Path) -> set[str]:
    """The app modules a module imports, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in MODULES)
    return found


GRAPH = {name: imports_of(path) for name, path in MODULES.items()}


def domain_of(module: str) -> str | None:
    return next((d for d in DOMAINS if module == d or module.startswith(d + ".")), None)


def test_the_scan_sees_what_a_module_imports():
    assert "app.users.cache" in GRAPH["app.users.service"], "the control: a known import"
    assert "app.security.tokens" in GRAPH["app.users.dependencies"], "another"


def test_users_never_imports_auth():
    offenders = {
        module: sorted(target for target in targets if domain_of(target) == "app.auth")
        for module, targets in GRAPH.items()
        if domain_of(module) == "app.users"
    }

    assert not any(offenders.values()), (
        f"app/users/ must not import app/auth/ (auth builds on users): {offenders}"
    )


def test_infrastructure_imports_no_domain():
    offenders = {
        module: sorted(target for target in targets if domain_of(target))
        for module, targets in GRAPH.items()
        if domain_of(module) is None and module != "app.main"
    }

    assert not any(offenders.values()), (
        f"infrastructure modules must not import a domain (users/, auth/): {offenders}"
    )


def test_only_the_app_factory_imports_auth():
    importers = {
        module
        for module, targets in GRAPH.items()
        if domain_of(module) != "app.auth" and any(domain_of(t) == "app.auth" for t in targets)
    }

    assert importers == {"app.main"}, importers


def test_there_is_no_import_cycle():
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in done:
            return
        assert module not in visiting, "import cycle: " + " -> ".join([*visiting, module])
        visiting.append(module)
        for target in GRAPH[module]:
            visit(target)
        visiting.pop()
        done.add(module)

    for module in GRAPH:
        visit(module)


def test_the_lifespans_objects_are_reached_through_resources():
    readers = {
        MODULES[module].relative_to(APP_DIR.parent).as_posix()
        for module in MODULES
        if re.search(r"\bapp\.state\b", MODULES[module].read_text())
    }

    assert readers == {"app/main.py", "app/resources.py"}, (
        "only the factory (which fills app.state) and app/resources.py (which reads it) touch "
        f"app.state; everything else asks for Resources: {sorted(readers)}"
    )
