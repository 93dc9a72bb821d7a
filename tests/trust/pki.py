"""A throwaway certificate authority for the TLS tests, made with the `openssl` command line tool.

One authority issues server certificates (for the names given: a certificate for the wrong host
is one that does not list the name dialled) and client certificates (mutual TLS).
"""
from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.engines import require_tool

LOOPBACK = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class KeyPair:
    cert_file: str
    key_file: str


class Authority:
    """A CA in its own folder: `ca_file` to trust it, `issue()` for certificates it signs."""

    def __init__(self, name: str, folder: Path | None = None):
        self.openssl = require_tool("openssl", "the TLS tests make their own certificate authority")
        self.folder = folder or Path(tempfile.mkdtemp(prefix=f"podium-pki-{name}-"))
        self.name = name
        self.ca_file = str(self.folder / f"{name}-ca.crt")
        self._ca_key = str(self.folder / f"{name}-ca.key")
        self._run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                  "-days", "2", "-subj", f"/CN={name} test CA", "-keyout", self._ca_key, "-out", self.ca_file,
                  "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def _run(self, *args: str) -> None:
        subprocess.run([self.openssl, *args], cwd=self.folder, check=True, capture_output=True, timeout=60)

    def issue(self, name: str, *, hosts: tuple[str, ...] = LOOPBACK, client: bool = False) -> KeyPair:
        """A certificate for `hosts` (server) or for the identity `name` (client), signed by this CA."""
        key, csr, cert = (str(self.folder / f"{name}.{suffix}") for suffix in ("key", "csr", "crt"))
        self._run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                  "-subj", f"/CN={name}", "-keyout", key, "-out", csr)
        extensions = self.folder / f"{name}.ext"
        if client:
            extensions.write_text("extendedKeyUsage=clientAuth\n")
        else:
            names = ",".join(f"IP:{h}" if h.replace(".", "").isdigit() else f"DNS:{h}" for h in hosts)
            extensions.write_text(f"subjectAltName={names}\nextendedKeyUsage=serverAuth\n")
        self._run("x509", "-req", "-in", csr, "-CA", self.ca_file, "-CAkey", self._ca_key, "-CAcreateserial",
                  "-days", "2", "-extfile", str(extensions), "-out", cert)
        return KeyPair(cert, key)
