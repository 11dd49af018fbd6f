"""A certificate of the task's own for the load balancer's TLS to it, made when the task
starts, then the server it guards.

The ALB encrypts to its targets but validates no certificate ("The load balancer does not
validate these certificates. Therefore, you can use self-signed certificates", AWS's target
group documentation), so each task makes an ECDSA P-256 key and a self-signed certificate
on its scratch volume: the key never leaves the task, and no image holds one.

The image's command:  python -m health_platform.api.task_certificate uvicorn ... \\
    --ssl-keyfile <TASK_KEY> --ssl-certfile <TASK_CERTIFICATE>
"""

from __future__ import annotations

import os
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from health_platform.contract import TASK_CERTIFICATE, TASK_KEY

# Longer than any task lives (a release replaces every task); the ALB checks no dates.
VALID_DAYS = 365


def make_task_certificate(certificate: Path, key: Path, name: str) -> None:
    """Write a new key (owner-only) and a self-signed certificate for `name`."""
    private = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    signed = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(private, hashes.SHA256())
    )
    for path in (certificate, key):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    certificate.write_bytes(signed.public_bytes(serialization.Encoding.PEM))


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("usage: python -m health_platform.api.task_certificate COMMAND [ARG...]")
    make_task_certificate(Path(TASK_CERTIFICATE), Path(TASK_KEY), socket.gethostname())
    os.execvp(argv[0], argv)  # noqa: S606 (the image's own command)


if __name__ == "__main__":
    main(sys.argv[1:])
