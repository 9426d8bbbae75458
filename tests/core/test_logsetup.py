"""The rotating log file and its redaction of credentials."""

from __future__ import annotations

import logging

import pytest

from evalsync_gui.core.logsetup import LOG_FILENAME, REDACTED, redact, setup_logging, teardown_logging

SECRET = "s3cr3tT0kenValue42"


@pytest.mark.parametrize("text", [
    f"Authorization: Bearer {SECRET}",
    f"headers={{'Authorization': 'Basic {SECRET}=='}}",
    f"sending Bearer {SECRET}",
    f"GET /oauth?access_token={SECRET}&x=1",
    f"grant_type=refresh_token&refresh_token={SECRET}",
    f'{{"access_token": "{SECRET}", "token_type": "bearer"}}',
    f'{{"refresh_token":"{SECRET}"}}',
    f"proxy https://admin:{SECRET}@example.zendesk.com/api",
    f"client_secret={SECRET} code_verifier={SECRET}",
])
def test_redact_masks_every_credential_shape(text):
    out = redact(text)
    assert SECRET not in out
    assert REDACTED in out


@pytest.mark.parametrize("text", [
    "Synced 1,204 users in 3.2 s",
    "refresh token rotated; next expiry in 7200 s",
    "basic authentication is disabled",
    "GET https://acme.zendesk.com/api/v2/users?page[size]=100",
])
def test_redact_leaves_ordinary_text_alone(text):
    assert redact(text) == text


@pytest.fixture
def log_file(tmp_path):
    path = setup_logging(level=logging.DEBUG, directory=tmp_path / "logs")
    yield path
    teardown_logging()


def test_log_file_is_in_given_folder_and_redacted(log_file):
    assert log_file.name == LOG_FILENAME
    log = logging.getLogger("evalsync.test")
    log.info("calling with %s", {"Authorization": f"Bearer {SECRET}"})
    try:
        raise RuntimeError(f"boom access_token={SECRET}")
    except RuntimeError:
        log.exception("request failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text(encoding="utf-8")
    assert "calling with" in text and "request failed" in text
    assert "RuntimeError: boom access_token=" in text
    assert SECRET not in text


def test_setup_twice_does_not_duplicate_handlers(tmp_path, log_file):
    before = len(logging.getLogger().handlers)
    setup_logging(directory=tmp_path / "logs")
    assert len(logging.getLogger().handlers) == before
