"""The security libraries stay behind one module each: python-jose behind app/security/tokens.py
(every JWT is made and read there), pwdlib behind app/security/passwords.py."""

import ast
from pathlib import Path

APP_DIR = Path(__file__).resolve().parents[1] / "app"

# Other JWT and password libraries: importing one anywhere would be a second path around them.
OTHER_JWT_LIBRARIES = {"jwt", "authlib", "joserfc", "jwcrypto"}
OTHER_HASHING_LIBRARIES = {"argon2", "passlib", "bcrypt"}


def imported_modules(path: Path) -> set[str]:
    """The top-level packages a module imports (`from jose.jwt import x` gives `jose`)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def modules_importing(package: str) -> set[str]:
    """Every module of final/app importing `package`, as paths relative to final/."""
    return {
        path.relative_to(APP_DIR.parent).as_posix()
        for path in sorted(APP_DIR.rglob("*.py"))
        if package in imported_modules(path)
    }


def test_the_import_scan_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "lazy.py"
    module.write_text("def later():\n    from jose.jwt import decode\n    import pwdlib.hashers\n")

    assert imported_modules(module) >= {"jose", "pwdlib"}, "the control case: nested imports"


def test_only_the_token_module_imports_jose():
    importers = modules_importing("jose")

    assert importers == {"app/security/tokens.py"}, (
        f"python-jose must be imported by app/security/tokens.py alone; found {sorted(importers)}. "
        "Make and read JWTs through encode_token / decode_token instead."
    )


def test_only_the_password_module_imports_pwdlib():
    importers = modules_importing("pwdlib")

    assert importers == {"app/security/passwords.py"}, (
        f"pwdlib must be imported by app/security/passwords.py alone; found {sorted(importers)}. "
        "Hash and verify through PasswordHasher instead."
    )


def test_no_other_jwt_or_hashing_library_is_used():
    found = {
        library: sorted(modules_importing(library))
        for library in OTHER_JWT_LIBRARIES | OTHER_HASHING_LIBRARIES
    }

    assert {library: paths for library, paths in found.items() if paths} == {}, (
        "JWTs go through python-jose in app/security/tokens.py and passwords through pwdlib in "
        "app/security/passwords.py; another library is a second path around them"
    )
