"""The OpenAPI schema documents every operation with a summary and examples: each JSON
request body and each successful JSON response shows one."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


def shows_an_example(content: dict[str, Any], schemas: dict[str, Any]) -> bool:
    if "example" in content or "examples" in content:
        return True
    schema = content.get("schema", {})
    if schema.get("format") == "binary":  # raw bytes: nothing meaningful to show
        return True
    if "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    return "examples" in schema or "example" in schema


def test_every_operation_has_a_summary_and_examples(app: FastAPI) -> None:
    spec = app.openapi()
    schemas = spec["components"]["schemas"]
    missing: list[str] = []
    operations = 0
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            operations += 1
            name = f"{method.upper()} {path}"
            if not operation.get("summary"):
                missing.append(f"{name}: summary")
            request = operation.get("requestBody", {}).get("content", {})
            for media_type, content in request.items():
                if not shows_an_example(content, schemas):
                    missing.append(f"{name}: request {media_type}")
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get("application/json")
                if status.startswith("2") and content and not shows_an_example(content, schemas):
                    missing.append(f"{name}: response {status}")
    assert operations >= 25
    assert not missing, missing


def test_operations_are_listed_as_a_reader_meets_them(app: FastAPI) -> None:
    # The app matches the busiest routes first (app.py); the schema keeps the order a reader
    # expects: health, signing in, the account, then the health data, then administration.
    paths = list(app.openapi()["paths"])
    assert paths[:2] == ["/health", "/health/ready"]
    order = ["/api/auth/login", "/api/account/password", "/api/observations", "/api/admin/users"]
    assert [paths.index(p) for p in order] == sorted(paths.index(p) for p in order)
