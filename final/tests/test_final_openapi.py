"""OpenAPI: every route summarised, its errors documented; the docs pages work offline."""

import re

import pytest

PUBLIC_ROUTES_WITHOUT_ERRORS = {("get", "/health/live")}


@pytest.fixture
async def openapi(client) -> dict:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(openapi: dict):
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


async def test_every_route_has_a_summary_and_a_description(openapi):
    for method, path, operation in operations(openapi):
        assert operation.get("summary"), f"{method.upper()} {path} has no summary"
        assert operation.get("description"), f"{method.upper()} {path} has no docstring"


async def test_every_route_documents_its_errors_as_problem_details(openapi):
    for method, path, operation in operations(openapi):
        errors = {code: r for code, r in operation["responses"].items() if int(code) >= 400}
        if (method, path) in PUBLIC_ROUTES_WITHOUT_ERRORS:
            continue
        assert errors, f"{method.upper()} {path} documents no error response"
        for code, response in errors.items():
            schema = response["content"]["application/problem+json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path, code)
    assert "Problem" in openapi["components"]["schemas"]


async def test_protected_routes_declare_the_bearer_scheme(openapi):
    me = openapi["paths"]["/users/me"]["get"]
    assert me["security"] == [{"OAuth2PasswordBearer": []}]
    assert "401" in me["responses"]


@pytest.mark.parametrize("page_path", ["/docs", "/redoc"])
async def test_the_interactive_docs_need_no_internet(client, page_path):
    page = await client.get(page_path)
    assert page.status_code == 200

    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    urls += re.findall(r"""url:\\s*['"]([^'"]+)['"]""", page.text)
    assert urls, "the docs page should load its script and style"
    for url in urls:
        assert not url.startswith(("http://", "https://", "//")), f"external asset: {url}"
        if url.endswith((".js", ".css")):
            asset = await client.get(url)
            assert asset.status_code == 200, url
