"""A self-signed certificate for localhost, made once with openssl: the load balancer's
HTTPS and PostgreSQL's TLS use it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from health_platform.errors import ToolchainError

# The longest validity browsers accept for a leaf certificate.
VALID_DAYS = 825


def certificate_paths(folder: Path) -> tuple[Path, Path]:
    """Where (certificate, key) are kept in `folder`."""
    return folder / "localhost.crt", folder / "localhost.key"


def ensure_certificate(folder: Path, valid_days: int = VALID_DAYS) -> tuple[Path, Path]:
    """(certificate, key) in `folder`, made if missing; the key is readable by its owner only."""
    certificate, key = certificate_paths(folder)
    if certificate.exists() and key.exists():
        return certificate, key
    openssl = shutil.which("openssl")
    if openssl is None:
        raise ToolchainError("openssl is not installed; run `make setup`.")
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            str(valid_days),
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(certificate),
        ],
        check=True,
        capture_output=True,
    )
    key.chmod(0o600)
    return certificate, key
