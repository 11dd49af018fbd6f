"""Each image holds only what it runs: the backend's Dockerfile copies exactly its build
inputs, its ignore file lets exactly those through, they cover every module the API
imports, and none of the CLI's dependencies is installed."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

from health_platform.contract import BACKEND
from health_platform.images import BUILD_INPUTS, DOCKERFILES
from health_platform.paths import REPO


def _copied_sources(dockerfile: str) -> set[str]:
    sources: set[str] = set()
    for line in dockerfile.splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
            sources.update(w.removeprefix("./") for w in words[1:-1])
    return sources


def test_the_backend_image_copies_exactly_its_build_inputs() -> None:
    copied = _copied_sources(DOCKERFILES[BACKEND].read_text())
    inputs = set(BUILD_INPUTS[BACKEND])
    assert inputs <= copied
    # A file of an input folder may be copied on its own (the RDS bundle, to /etc/ssl).
    assert all(any(s == i or s.startswith(f"{i}/") for i in inputs) for s in copied)


def test_the_backend_build_context_lets_through_exactly_its_build_inputs() -> None:
    ignore = DOCKERFILES[BACKEND].with_name("Dockerfile.dockerignore").read_text()
    allowed = {line[1:] for line in ignore.splitlines() if line.startswith("!")}
    assert allowed == set(BUILD_INPUTS[BACKEND])


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("health_platform")}


def test_the_backend_inputs_hold_every_module_the_api_imports() -> None:
    inputs = [REPO / p for p in BUILD_INPUTS[BACKEND]]
    files = [f for p in inputs for f in ([p] if p.is_file() else sorted(p.rglob("*.py")))]
    shipped = {
        ".".join(f.relative_to(REPO / "src").with_suffix("").parts).removesuffix(".__init__")
        for f in files
        if f.suffix == ".py"
    }
    needed = set().union(*(_imports(f) for f in files if f.suffix == ".py"))
    missing = {
        m for m in needed if m not in shipped and not any(s.startswith(m + ".") for s in shipped)
    }
    assert not missing, f"the backend image would lack {sorted(missing)}"


def test_the_backend_image_installs_none_of_the_clis_dependencies() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    installed = project["dependencies"] + project["optional-dependencies"]["api"]
    names = {re.split(r"[=<>\[ ]", requirement)[0].lower() for requirement in installed}
    assert not names & {"typer", "rich", "pyyaml", "aws-cdk-lib", "cdk-nag", "cfn-lint"}
    assert re.search(r'"health-platform\[api\]"', DOCKERFILES[BACKEND].read_text())
