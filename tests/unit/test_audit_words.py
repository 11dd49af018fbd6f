"""Every action the API records has words for the admin console and the auditor's CSV."""

from __future__ import annotations

import ast
import re

from health_platform.api import audit_words
from health_platform.api.email_links import ACTIONS as LINK_ACTIONS
from health_platform.paths import REPO

API = REPO / "src" / "health_platform" / "api"
# What an action looks like: a resource and a verb, dotted.
ACTION = re.compile(
    r"^(account|admin|auth|document|export|invitation|mail|measurements|observation|profile)(\.[a-z_]+)+$"
)


def recorded_actions() -> set[str]:
    """The action strings in the API's code, f"{RESOURCE}.verb" included."""
    found: set[str] = set(LINK_ACTIONS.values())
    for path in API.rglob("*.py"):
        tree = ast.parse(path.read_text())
        resources = {
            node.targets[0].id: node.value.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "RESOURCE"
            and isinstance(node.value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if ACTION.match(node.value):
                    found.add(node.value)
            elif isinstance(node, ast.JoinedStr) and resources:
                text = "".join(
                    str(resources.get(getattr(part.value, "id", ""), "?"))
                    if isinstance(part, ast.FormattedValue)
                    else str(part.value)
                    for part in node.values
                )
                if ACTION.match(text):
                    found.add(text)
    return found


def test_every_recorded_action_has_words() -> None:
    actions = recorded_actions()
    assert {"observation.create", "document.upload", "admin.user.lock"} <= actions
    assert actions - set(audit_words.ACTIONS) == set()


def test_a_record_is_described_with_its_outcome() -> None:
    assert audit_words.describe("document.download", "success") == "Downloaded a document"
    assert audit_words.describe("admin.access", "denied") == "Opened the admin area (denied)"
    assert audit_words.describe("future.thing_done", "weird_end") == "Future thing done (weird end)"
