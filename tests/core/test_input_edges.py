"""Issue 13, finding 9: anchored patterns, routed local parts, NUL in names, TLS failures named as such."""

from __future__ import annotations

import datetime
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from evalsync_gui.core import directory
from evalsync_gui.core.account import check_label, parse_subdomain
from evalsync_gui.core.chat import requests as rq
from evalsync_gui.core.chat.domains import address_problem, domain_problem, normalize_domain
from evalsync_gui.core.errors import TlsError, UsageError
from evalsync_gui.core.sync.config import SyncConfig
from tests.keyring_backends import file_keyring  # noqa: F401 - fixture


@pytest.mark.parametrize("text", ["abc\n", "abc-energy\n.zendesk.com"])
def test_a_trailing_newline_is_not_part_of_an_account_name(text):
    with pytest.raises(UsageError):
        parse_subdomain(text) if "." in text else check_label(text)


def test_domain_labels_and_settings_patterns_are_anchored_at_the_very_end():
    with pytest.raises(ValueError):
        normalize_domain("acme\n.com")
    with pytest.raises(UsageError):
        SyncConfig(roles=["agent"], identifier="external_id\n").validate()
    with pytest.raises(UsageError):
        directory.validate_email("ada@acme\n.com")


@pytest.mark.parametrize("email", ["outsider%evil.com@acme.com", "evil.com!outsider@acme.com", "a" * 65 + "@acme.com"])
def test_routed_or_overlong_local_parts_are_refused(email):
    assert address_problem(email) is not None
    assert domain_problem(email, ["acme.com"]) is not None


def test_a_64_character_local_part_is_still_fine():
    assert domain_problem("a" * 64 + "@acme.com", ["acme.com"]) is None


def test_nul_and_other_controls_are_refused_in_names(ctx):
    for name in ("Ada\x00Lovelace", "Ada\nFake row", "Ada\x1b[2J"):
        with pytest.raises(UsageError, match="control character"):
            directory.add_user(ctx.db, ctx.settings, directory.NewUser(name=name, email="ada@x.test"))
    with pytest.raises(UsageError, match="control character"):
        rq.add_request(ctx.db, requester="lead@acme.com", email="ada@acme.com", first_name="Ada\x00",
                       last_name="L", domains=["acme.com"])
    assert directory.list_users(ctx.db) == []


# -- TLS -----------------------------------------------------------------------------------------
@pytest.fixture
def untrusted_https(tmp_path):
    """An HTTPS server on loopback with a self-signed certificate nobody trusts."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "c.pem", tmp_path / "k.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))

    class Quiet(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Quiet)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.usefixtures("file_keyring")
def test_a_certificate_problem_is_named_not_called_unreachable(ctx, untrusted_https):
    from evalsync_gui.core.auth import session

    with pytest.raises(TlsError) as err:
        session.connect_api_token(ctx, "abc-energy", "admin@abc.test", "tok-123456789", base_url=untrusted_https)
    text = str(err.value)
    assert text.startswith("TLS/certificate problem with 127.0.0.1") and "certificate" in text
    assert "reach" not in text and err.value.exit_code == 5
    assert session.connection_info(ctx) is None
