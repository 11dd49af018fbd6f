"""`hp diagram ENV`: the seed's architecture diagram, drawn from the synthesized templates."""

from __future__ import annotations

import os
from pathlib import Path

from health_platform.diagram.model import Architecture, read_architecture
from health_platform.diagram.render import output_format, render
from health_platform.errors import InvalidInputError

__all__ = ["Architecture", "check_writable", "draw", "output_format", "read_architecture"]


def check_writable(path: Path) -> None:
    """A folder that exists and a file that can be written there."""
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise InvalidInputError(f"Cannot write {path}: the folder {folder} does not exist.")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InvalidInputError(f"Cannot write {path}: permission denied.")


def draw(outdir: Path, env: str, output: Path, model_file: Path | None = None) -> Architecture:
    """Read `env`'s templates from the cloud assembly `outdir`, draw them to `output`, and
    write the model as JSON to `model_file` when one is named (docs/ keeps it, so a test
    can tell when the committed picture no longer matches the templates)."""
    model = read_architecture(outdir, env)
    try:
        render(model, output)
        if model_file is not None:
            model_file.write_text(model.to_json())
    except PermissionError as denied:
        raise InvalidInputError(f"Cannot write {denied.filename}: permission denied.") from None
    return model
