"""Every error code the API can answer has a title in plain words in the frontend
(frontend/src/lib/errorTitles.ts), and the frontend names no code the API never sends."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from health_platform.api.errors import HTTP_CODES, HTTP_ERROR
from health_platform.api.routes.auth import INVITATION_REFUSALS
from health_platform.paths import REPO

API = REPO / "src" / "health_platform" / "api"
TITLES = REPO / "frontend" / "src" / "lib" / "errorTitles.ts"
RAISERS = ("ApiError", "error_response")


def _literal_codes(path: Path) -> set[str]:
    """The codes of ApiError(status, "code", …) and error_response(status, "code", …)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or len(node.args) < 2:
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", None))
        code = node.args[1]
        if name in RAISERS and isinstance(code, ast.Constant) and isinstance(code.value, str):
            found.add(code.value)
    return found


def api_codes() -> set[str]:
    codes = set().union(*(_literal_codes(path) for path in API.rglob("*.py")))
    codes |= {code for _, code, _ in INVITATION_REFUSALS.values()}
    return codes | set(HTTP_CODES.values()) | {HTTP_ERROR}


def frontend_codes() -> set[str]:
    block = TITLES.read_text().split("ERROR_TITLES", 1)[1]
    return set(re.findall(r"^\s+([a-z_]+): \"", block, flags=re.MULTILINE))


def test_every_api_error_code_has_a_plain_title_and_no_other() -> None:
    api, frontend = api_codes(), frontend_codes()
    assert len(api) > 25  # the scan found the API's codes, not nothing
    assert api - frontend == set(), "codes without a title in errorTitles.ts"
    assert frontend - api == set(), "titles for codes the API never sends"
