"""Shared fixtures: a copy of the real environment files that a test may break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
ENVIRONMENTS = REPO / "environments"
REMOVE = object()


class EnvironmentFiles:
    """The three environment files in a temporary folder, editable one key at a time."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        shutil.copytree(ENVIRONMENTS, directory)

    def edit(self, name: str, dotted_key: str, value: object = REMOVE) -> None:
        """Set `dotted_key` (e.g. "rds.backup_retention_days") in `name`'s file, or delete it."""
        path = self.directory / f"{name}.yaml"
        data = yaml.safe_load(path.read_text())
        *parents, leaf = dotted_key.split(".")
        node = data
        for key in parents:
            node = node[key]
        if value is REMOVE:
            del node[leaf]
        else:
            node[leaf] = value
        path.write_text(yaml.safe_dump(data))


@pytest.fixture
def environment_files(tmp_path: Path) -> EnvironmentFiles:
    return EnvironmentFiles(tmp_path / "environments")
