"""frontend/nginx.conf on this machine: the same file, only its marked lines changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from health_platform.local.nginx import FRONTEND_CONF, frontend_conf


def test_local_runs_change_only_the_marked_lines(tmp_path: Path) -> None:
    source = FRONTEND_CONF.read_text()
    local = frontend_conf(source, port=3999, root=tmp_path / "dist", state_dir=tmp_path)
    changed = [
        (before, after)
        for before, after in zip(source.splitlines(), local.splitlines(), strict=True)
        if before != after
    ]
    assert all("# local: " in before for before, _ in changed)
    assert "listen 127.0.0.1:3999;" in local and f"root {tmp_path / 'dist'};" in local
    with pytest.raises(ValueError, match="no line marked for root"):
        frontend_conf(
            source.replace("# local: root", ""), port=1, root=tmp_path, state_dir=tmp_path
        )
