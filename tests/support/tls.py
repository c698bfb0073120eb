"""A self-signed certificate, made by openssl as an operator would make one."""

from __future__ import annotations

import subprocess
from pathlib import Path


def self_signed(folder: Path, *addresses: str) -> tuple[Path, Path]:
    """A certificate and its key for 127.0.0.1 and any other IP `addresses`."""
    cert, key = folder / "api.pem", folder / "api.key"
    names = ",".join(f"IP:{address}" for address in ("127.0.0.1", *addresses))
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", f"subjectAltName={names}",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key
