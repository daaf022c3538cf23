"""A company's certificate authority, made in a test: a server certificate it signs for
127.0.0.1, and commands run where the system's certificate store holds it too, as on company
machines (a mount namespace of their own: the machine's store is not changed)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from helpers.system import require_root, run

SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass(frozen=True)
class Authority:
    certificate: Path
    """The authority's own certificate."""
    server_certificate: Path
    server_key: Path

    def server_context(self) -> ssl.SSLContext:
        """What a server on 127.0.0.1 answers TLS with: a certificate the authority signed."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.server_certificate, self.server_key)
        return context

    def trusted_by_the_system(self, folder: Path) -> list[str]:
        """A command prefix: what follows runs where the system's certificate store holds the
        authority beside Debian's bundle. Only root may mount."""
        require_root()
        store = folder / "system-certificates"
        store.mkdir()
        bundle = SYSTEM_BUNDLE.read_bytes() + self.certificate.read_bytes()
        (store / SYSTEM_BUNDLE.name).write_bytes(bundle)
        mounted = f'mount --bind "$0" {SYSTEM_BUNDLE.parent} && exec "$@"'
        return ["unshare", "--mount", "sh", "-c", mounted, str(store)]


def company_authority(folder: Path) -> Authority:
    """A new authority, and a server certificate for 127.0.0.1 it signed, in ``folder``."""
    folder.mkdir()
    ca, key = folder / "ca.pem", folder / "ca.key"
    run(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-keyout", str(key), "-out", str(ca), "-subj", "/CN=Acme Test Authority",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    server, server_key, request = folder / "server.pem", folder / "server.key", folder / "req"
    run(
        "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(server_key),
        "-out", str(request), "-subj", "/CN=127.0.0.1",
    )  # fmt: skip
    extensions = folder / "extensions"
    extensions.write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    run(
        "openssl", "x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(key),
        "-CAcreateserial", "-days", "2", "-out", str(server), "-extfile", str(extensions),
    )  # fmt: skip
    return Authority(ca, server, server_key)
