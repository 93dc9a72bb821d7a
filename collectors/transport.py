"""Transport failures (refused, timed out, TLS) in a few words an operator can act on.

Client libraries bury the cause in long nested reprs ("HTTPSConnectionPool(...): Max retries
exceeded ... Caused by SSLError(...)") that get cut off before the useful part. This finds it.
"""
from __future__ import annotations

import re

from collectors.toolkit import short

_TLS_MISMATCH = re.compile(r"(?:IP address|Hostname) mismatch, certificate is not valid for '([^']+)'")
_TLS_UNVERIFIED = re.compile(r"certificate verify failed: ([^(']+)")
_PLAIN: tuple[tuple[tuple[str, ...], str], ...] = (
    (("certificate required", "BAD_CERTIFICATE", "bad certificate", "CERTIFICATE_REQUIRED"),
     "the server refused our TLS client certificate (or wants one): set tls.cert_file and tls.key_file "
     "to a certificate its CA signed"),
    (("EOF occurred in violation of protocol", "UNEXPECTED_EOF_WHILE_READING"),
     "the server closed the TLS connection during the handshake: it may want a client certificate "
     "(set tls.cert_file and tls.key_file) or refuse ours"),
    (("WRONG_VERSION_NUMBER", "wrong version number"),
     "TLS handshake failed: the server does not speak TLS on this port (try http://) or speaks another protocol"),
    (("Connection refused", "ConnectionRefusedError"),
     "connection refused: nothing listens on that address and port (is the API server running?)"),
    (("Name or service not known", "nodename nor servname", "Temporary failure in name resolution",
      "NameResolutionError", "Failed to resolve"), "the host name does not resolve (check the URL and DNS)"),
    (("No route to host", "Network is unreachable"), "no network route to the host"),
    (("Connection reset by peer", "ConnectionResetError", "RemoteDisconnected"),
     "the server closed the connection without answering"),
    (("handshake operation timed out",), "the TLS handshake got no answer: is this a TLS port?"),
    (("timed out", "TimeoutError"), "timed out"),
)


def transport_problem(exc: BaseException | str) -> str:
    """The cause of a failed connection, with the setting that fixes it when there is one."""
    text = str(exc)
    mismatch = _TLS_MISMATCH.search(text)
    if mismatch:
        return (f"the server's certificate is not valid for {mismatch.group(1)}: connect by a name the "
                "certificate lists, or have the certificate reissued with this one")
    unverified = _TLS_UNVERIFIED.search(text)
    if unverified:
        return (f"certificate verify failed: {unverified.group(1).strip().rstrip('.')}; set ca_file (or "
                "tls.ca_file) to the CA that signed the server's certificate")
    for needles, plain in _PLAIN:
        if any(needle in text for needle in needles):
            return plain
    return short(text)
