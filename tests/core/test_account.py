"""Account-name parsing: every accepted form resolves to the subdomain; everything else is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalsync_gui.core.account import resolve_account
from evalsync_gui.core.errors import UsageError


@pytest.mark.parametrize("text", [
    "abc-energy", " abc-energy ", "ABC-Energy", "abc-energy.zendesk.com", "abc-energy.zendesk.com.",
    "https://abc-energy.zendesk.com", "https://abc-energy.zendesk.com/", "https://abc-energy.zendesk.com:443/x",
    "https://abc-energy.zendesk.com/agent/tickets/1?x=y#z",
])
def test_accepted_forms_resolve_to_subdomain(text):
    account = resolve_account(text)
    assert account.subdomain == "abc-energy"
    assert account.base_url == "https://abc-energy.zendesk.com"
    assert account.host == "abc-energy.zendesk.com"


@pytest.mark.parametrize("text, reason", [
    ("", "Type the Zendesk account name"),
    ("-abc", "hyphen"),
    ("abc-", "hyphen"),
    ("a_b", "'_'"),
    ("abc energy", "' '"),
    ("äbc", "'ä'"),
    ("a" * 64, "64 characters"),
    ("http://abc.zendesk.com", "https"),
    ("ftp://abc.zendesk.com", "https"),
    ("https://evil.example.com/", "evil.example.com"),
    ("https://abc.zendesk.com.evil.com", "not a Zendesk account"),
    ("abc.zendesk.com.evil.com", "not a Zendesk account"),
    ("a.b.zendesk.com", "more than one name"),
    ("https://user:pw@abc.zendesk.com", "user name"),
    ("https://abc.zendesk.com:8443", "port 8443"),
    ("abc/def", "not an account name"),
])
def test_refused_with_one_line_reason(text, reason):
    with pytest.raises(UsageError) as err:
        resolve_account(text)
    assert reason in str(err.value)
    assert "\n" not in str(err.value)


def test_loopback_base_url_override_allows_http():
    account = resolve_account("abc-energy", "http://127.0.0.1:8123/")
    assert account.base_url == "http://127.0.0.1:8123"
    assert account.subdomain == "abc-energy"


def test_base_url_override_refuses_plain_http_elsewhere():
    with pytest.raises(UsageError, match="plain http"):
        resolve_account("abc-energy", "http://example.com")


label = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z")


@given(label)
def test_every_valid_label_round_trips_through_all_forms(name):
    for text in (name, f"{name}.zendesk.com", f"https://{name}.zendesk.com/x", name.upper()):
        assert resolve_account(text).subdomain == name
