"""Certificates for HTTPS tests, made by the ``openssl`` command (installed with the system's
OpenSSL): a self-signed one for 127.0.0.1, or a small CA and a certificate it signs.

Every certificate names ``IP:127.0.0.1`` and ``DNS:localhost``, so a client that
checks names accepts it for ``https://127.0.0.1:PORT`` once it trusts its issuer.
"""

import hashlib
import ssl
import subprocess
from pathlib import Path

__all__ = ["fingerprint", "make_ca", "self_signed", "served_fingerprint", "signed_by"]

_NAMES = "subjectAltName=IP:127.0.0.1,DNS:localhost"


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def self_signed(directory: Path, name: str = "server") -> tuple[Path, Path]:
    """A new self-signed certificate and its key: (NAME.pem, NAME.key) in ``directory``."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
        "-addext", _NAMES,
    )  # fmt: skip
    return cert, key


def make_ca(directory: Path, name: str = "team-ca") -> tuple[Path, Path]:
    """A CA certificate and key (a team's own CA)."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign",
    )  # fmt: skip
    return cert, key


def signed_by(ca: tuple[Path, Path], directory: Path, name: str = "node") -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by ``ca`` (from :func:`make_ca`), and its key."""
    cert, key, request = (directory / f"{name}.{ext}" for ext in ("pem", "key", "csr"))
    _openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(request), "-subj", f"/CN={name}",
    )  # fmt: skip
    names = directory / f"{name}.ext"
    names.write_text(_NAMES + "\n")
    _openssl(
        "x509", "-req", "-in", str(request), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
        "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(names),
    )  # fmt: skip
    return cert, key


def fingerprint(cert: Path) -> str:
    """The SHA-256 of a PEM certificate's DER bytes."""
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    return hashlib.sha256(der).hexdigest()


def served_fingerprint(port: int) -> str:
    """The SHA-256 of the certificate a new connection to 127.0.0.1:PORT is given."""
    pem = ssl.get_server_certificate(("127.0.0.1", port), timeout=10)
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()
