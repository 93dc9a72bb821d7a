"""A throwaway certificate authority and server certificate for serving the emulator over HTTPS.

Made with the `openssl` command line tool (present on every machine we run on); `available()`
tells tests whether they can ask for HTTPS at all.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Certificates:
    ca_file: str
    cert_file: str  # the server's
    key_file: str
    client_cert_file: str = ""  # a client certificate the same CA signed (user "podium-reader")
    client_key_file: str = ""


def available() -> bool:
    return shutil.which("openssl") is not None


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certificates(folder: str | Path | None = None, host: str = "127.0.0.1") -> Certificates:
    """A CA, a server certificate it signed for `host`, localhost and 127.0.0.1, and a client
    certificate it signed (for clusters that authenticate clients by certificate)."""
    where = Path(folder or tempfile.mkdtemp(prefix="podium-kube-tls-"))
    where.mkdir(parents=True, exist_ok=True)
    _run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=podium-emulator-ca",
         "-keyout", "ca.key", "-out", "ca.crt", cwd=where)
    _run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver", "-keyout", "server.key",
         "-out", "server.csr", cwd=where)
    (where / "san.ext").write_text(f"subjectAltName=IP:{host},IP:127.0.0.1,DNS:localhost,DNS:kubernetes\n"
                                   "extendedKeyUsage=serverAuth\n")
    _run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
         "-days", "30", "-extfile", "san.ext", "-out", "server.crt", cwd=where)
    _run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=podium-reader/O=podium", "-keyout", "client.key",
         "-out", "client.csr", cwd=where)
    (where / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    _run("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
         "-days", "30", "-extfile", "client.ext", "-out", "client.crt", cwd=where)
    return Certificates(str(where / "ca.crt"), str(where / "server.crt"), str(where / "server.key"),
                        str(where / "client.crt"), str(where / "client.key"))
