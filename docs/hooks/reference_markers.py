"""Markdown generated from the code: the finished service's settings and routes, the schedules
and the benchmarks' runbook. Generated, so the pages cannot drift from the code.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
import types
import typing
from pathlib import Path

import annotated_types
from chapter_markers import Links, MissingData, chapter_page
from pydantic import SecretStr
from pydantic_core import PydanticUndefined

REPO_ROOT = Path(__file__).resolve().parents[2]
FINAL_DIR = REPO_ROOT / "final"


def import_final(module: str) -> types.ModuleType:
    """Import a module of the finished service's `app` package (final/ on the path)."""
    if str(FINAL_DIR) not in sys.path:
        sys.path.insert(0, str(FINAL_DIR))
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingData(
            f"the docs need `{module}` from final/ ({error}); the finished service must import."
        ) from error


def _escape_cell(text: str) -> str:
    return text.replace("|", r"\|").replace("\n", " ")


# --- settings ---------------------------------------------------------------------------------

_CONSTRAINTS = {  # the bound's class: (its attribute, how the table writes it)
    annotated_types.Ge: ("ge", "≥"),
    annotated_types.Gt: ("gt", ">"),
    annotated_types.Le: ("le", "≤"),
    annotated_types.Lt: ("lt", "<"),
}


def _type_name(annotation: object) -> str:
    if typing.get_origin(annotation) is typing.Literal:
        return " or ".join(f"`{value}`" for value in typing.get_args(annotation))
    if typing.get_origin(annotation) is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return f"`{annotation.__name__}`"
    return "`" + re.sub(r"\b(typing|pydantic|pydantic_core)\.", "", str(annotation)) + "`"


def _constraints(field) -> str:
    parts = []
    for item in field.metadata:
        for kind, (attribute, symbol) in _CONSTRAINTS.items():
            if isinstance(item, kind):
                parts.append(f"{symbol} {getattr(item, attribute)}")
    return f" ({', '.join(parts)})" if parts else ""


def _default(field) -> str:
    if field.default_factory is not None:
        return "computed at start-up"
    if field.default is PydanticUndefined:
        return "**required**"
    if isinstance(field.default, SecretStr):
        return "a development placeholder"
    if isinstance(field.default, list):
        return "`" + ",".join(str(item) for item in field.default) + "`"
    return f"`{field.default}`"


def _env_name(name: str, field, settings_class) -> str:
    alias = field.validation_alias or field.alias
    if isinstance(alias, str):
        return alias.upper()
    prefix = settings_class.model_config.get("env_prefix", "")
    return f"{prefix}{name}".upper()


def settings_table() -> str:
    settings_class = import_final("app.config").Settings
    rows = []
    for name, field in settings_class.model_fields.items():
        if not field.description:
            raise MissingData(
                f"the setting `{name}` in final/app/config.py has no description: give it "
                "`Field(..., description=...)`, the settings table on the docs site shows it."
            )
        rows.append(
            f"| `{name}` | `{_env_name(name, field, settings_class)}` "
            f"| {_escape_cell(_type_name(field.annotation) + _constraints(field))} "
            f"| {_escape_cell(_default(field))} | {_escape_cell(field.description)} |"
        )
    if not rows:
        raise MissingData("final/app/config.py's Settings has no fields.")
    return (
        "| Setting | Environment variable | Type | Default | What it does |\n"
        "| --- | --- | --- | --- | --- |\n" + "\n".join(rows) + "\n"
    )


# --- endpoints --------------------------------------------------------------------------------


def _finished_app():
    settings = import_final("app.config").Settings(_env_file=None)
    create_app = import_final("app.main").create_app
    # Building the app connects to nothing: the engine and Redis are made in the lifespan.
    return create_app(settings)


def _api_routes(routes, prefix: str = ""):
    """(path, route) of every APIRoute, also inside routers that FastAPI keeps unflattened."""
    from fastapi.routing import APIRoute

    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif included := getattr(route, "original_router", None):  # FastAPI >= 0.16x
            context_prefix = getattr(getattr(route, "include_context", None), "prefix", "")
            yield from _api_routes(included.routes, prefix + context_prefix)


def _hidden_routes(app) -> list[str]:
    """Rows for the service's own routes that the OpenAPI schema leaves out (e.g. /metrics)."""
    rows = []
    for path, route in _api_routes(app.routes):
        module = route.endpoint.__module__
        # The API's docs pages document it; they are not part of it (as FastAPI's own are not).
        if route.include_in_schema or not module.startswith("app.") or module == "app.api_docs":
            continue
        doc = route.summary or (route.endpoint.__doc__ or "").strip().split("\n")[0]
        doc = re.sub(r"\s*\([^)]*\)", "", doc)  # the docstring's asides are for code readers
        if not doc:
            raise MissingData(f"the route {path} has no summary or docstring.")
        for method in sorted(route.methods - {"HEAD"}):
            rows.append(
                f"| `{method}` | `{path}` | {_escape_cell(doc)} | public "
                "| not in the OpenAPI schema |"
            )
    return rows


def endpoints_table() -> str:
    app = _finished_app()
    rows = []
    for path, operations in app.openapi().get("paths", {}).items():
        for method, operation in operations.items():
            if method.startswith("x-") or method == "parameters":
                continue
            summary = operation.get("summary")
            if not summary:
                raise MissingData(
                    f"{method.upper()} {path} has no summary in the finished service's OpenAPI: "
                    "give the route a summary or a docstring."
                )
            auth = "token" if operation.get("security") else "public"
            answers = ", ".join(sorted(operation.get("responses", {})))
            rows.append(
                f"| `{method.upper()}` | `{path}` | {_escape_cell(summary)} | {auth} | {answers} |"
            )
    if not rows:
        raise MissingData("the finished service's OpenAPI schema lists no routes.")
    rows += _hidden_routes(app)
    return (
        "| Method | Path | What it does | Auth | Answers |\n"
        "| --- | --- | --- | --- | --- |\n" + "\n".join(rows) + "\n"
    )


# --- schedules --------------------------------------------------------------------------------


def schedule_table(manifest, days: int, links: Links) -> str:
    """The schedule `workshop schedule` prints, as one table per day."""
    from workshop import schedule  # not at the top: see on_config in site_hook.py

    plan = schedule.plan(manifest, days)
    parts = [" ".join(plan.header()) + "\n"]
    for day in plan.days:
        if len(plan.days) > 1:
            parts.append(
                f"**Day {day.number}** ({schedule.clock(day.start)} to {schedule.clock(day.end)})\n"
            )
        rows = []
        for session in day.sessions:
            start, end, title = session.row()
            if session.chapter is not None:
                title = f"[{title}]({links.to_page(chapter_page(session.chapter))})"
            if session.kind in {"break", "lunch"}:
                title = f"*{title}*"
            rows.append(f"| {start}–{end} | {schedule.markdown_cell(session, title)} |")
        parts.append("| Time | Session |\n| --- | --- |\n" + "\n".join(rows) + "\n")
    return "\n".join(parts)


# --- the road: every production feature and where it is taught -------------------------------


def features_table(manifest, links: Links) -> str:
    """Each feature of the finished service, with the exercise or worked section that teaches
    it, from the manifest's `features` lists: one list per chapter, in their order (a table
    of long sentences would be wider than the page)."""
    parts = []
    for chapter in manifest.chapters:
        taught = [(item, "exercise") for item in chapter.exercises]
        taught += [(item, "worked section") for item in chapter.worked]
        rows = [
            f"- {feature} ({kind} `{item.name}`)"
            for item, kind in taught
            for feature in item.features
        ]
        if rows:
            page = links.to_page(chapter_page(chapter))
            title = f"**[{chapter.number} {chapter.short_title}]({page})**"
            parts.append(f"{title}\n\n" + "\n".join(rows))
    if not parts:
        raise ValueError("the manifest lists no features: give exercises `features` lists")
    return "\n\n".join(parts) + "\n"


# --- the benchmarks' runbook ---------------------------------------------------------------


def benchmark_guide() -> str:
    """How to run the benchmarks: benchmarks/README.md from its first section on, its headings
    demoted by one.

    Its list of targets is left out: the results page shows the one list, with the verdicts.
    """
    guide = REPO_ROOT / "benchmarks" / "README.md"
    if not guide.is_file():
        return (
            '!!! info "The benchmark runner is not committed yet"\n\n'
            "    Its instructions appear here from `benchmarks/README.md` once it lands.\n"
        )
    text = guide.read_text(encoding="utf-8")
    text = text[text.find("\n## ") + 1 :]  # the page has its own title and introduction
    text = re.sub(
        r"^## Targets\n.*?(?=^## |\Z)",
        "## Targets\n\nThe targets, and whether the baseline meets them, are on the "
        "[results page](index.md#targets).\n\n",
        text,
        flags=re.MULTILINE | re.DOTALL,
    )
    return re.sub(r"^(#{1,5}) ", r"#\1 ", text, flags=re.MULTILINE)


# --- module docstrings ------------------------------------------------------------------------


def module_docstring(path: str | None, links: Links) -> str:
    """A module's docstring as a quote, linked to its file: the code's own why, not a copy."""
    if not path:
        raise MissingData("the docstring marker names a file: `<!-- workshop:docstring PATH -->`.")
    source = REPO_ROOT / path
    if not source.is_file():
        raise MissingData(f"the docstring marker names {path}, which does not exist.")
    docstring = ast.get_docstring(ast.parse(source.read_text(encoding="utf-8")))
    if not docstring:
        raise MissingData(f"{path} has no module docstring for the docs to show.")
    quoted = "\n".join(f"> {line}".rstrip() for line in docstring.splitlines())
    return f"{quoted}\n>\n> — {links.repo_file(path)}\n"


# --- getting the code -------------------------------------------------------------------------


def get_the_code(repo_url: str | None) -> str:
    """How to get the repository: its clone command when the site knows its address."""
    if repo_url:
        folder = repo_url.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]
        return (
            f"Clone the repository from <{repo_url}> and enter it:\n\n"
            f"```bash\ngit clone {repo_url}\ncd {folder}\n```\n"
        )
    return (
        "Get the repository from wherever this site came from: your instructor's address, "
        "a link on the course's page, or a copy on a USB stick. It is a git repository, so "
        "with an address it is `git clone ADDRESS`; a folder copied from someone else works "
        "too (run `git status` in it to see that it is a clean checkout). Then enter its "
        "folder, the one holding `pyproject.toml` and `chapters/`.\n"
    )
