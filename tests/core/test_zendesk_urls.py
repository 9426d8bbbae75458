"""URL rules (core/zendesk/urls.py): HTTPS only except a loopback simulator, same-origin links.

Each test goes through the public functions the client uses; they were written to kill the
mutants `make mutate MODULES=zendesk.urls` left alive (docs/RELIABILITY.md, "Mutation testing").
"""

from __future__ import annotations

import pytest

from evalsync_gui.core.errors import UnsafeUrlError, UsageError
from evalsync_gui.core.zendesk.urls import checked_base_url, is_loopback, origin_of, same_origin


def test_base_url_is_reduced_to_its_origin():
    assert checked_base_url("https://acme.zendesk.com/api/v2/") == "https://acme.zendesk.com"


@pytest.mark.parametrize("host, expected", [
    ("localhost", True), ("LocalHost", True), ("127.0.0.1", True), ("127.0.0.2", True),
    ("::1", True), ("[::1]", True), ("[::1", True),
    ("example.com", False), ("XlocalhostX", False), ("10.0.0.1", False), ("[::2]", False), ("localhost.evil.io", False), ("", False),
])
def test_loopback_hosts(host, expected):
    assert is_loopback(host) is expected


@pytest.mark.parametrize("url, origin", [
    ("HTTPS://Acme.Zendesk.COM/api/v2/users?x=1", "https://acme.zendesk.com"),
    ("https://acme.zendesk.com:443/", "https://acme.zendesk.com"),
    ("http://localhost:80/", "http://localhost"),
    ("https://acme.zendesk.com:80/", "https://acme.zendesk.com:80"),
    ("http://localhost:443/", "http://localhost:443"),
    ("http://127.0.0.1:8080/api", "http://127.0.0.1:8080"),
    ("https://[::1]/", "https://[::1]"),
    ("https://[::1]:443/", "https://[::1]"),
    ("https://[::1]:8443/", "https://[::1]:8443"),
    ("https://[FE80::1]:8443/", "https://[fe80::1]:8443"),
])
def test_origin_is_lower_case_without_default_ports(url, origin):
    assert origin_of(url) == origin


@pytest.mark.parametrize("url, origin", [
    ("  https://acme.zendesk.com  ", "https://acme.zendesk.com"),
    ("http://localhost:8080", "http://localhost:8080"),
    ("http://127.0.0.1:9/x", "http://127.0.0.1:9"),
    ("http://[::1]:8080", "http://[::1]:8080"),
])
def test_accepted_base_urls(url, origin):
    assert checked_base_url(url) == origin


@pytest.mark.parametrize("url, message", [
    ("https://acme.zendesk.com:99999", "'https://acme.zendesk.com:99999' is not a valid address."),
    ("https://acme.zendesk.com:abc", "'https://acme.zendesk.com:abc' is not a valid address."),
    ("ftp://acme.zendesk.com", "'ftp://acme.zendesk.com' is not a valid address; use https://SUBDOMAIN.zendesk.com."),
    ("acme.zendesk.com", "'acme.zendesk.com' is not a valid address; use https://SUBDOMAIN.zendesk.com."),
    ("https://", "'https://' is not a valid address; use https://SUBDOMAIN.zendesk.com."),
    ("https://bob@acme.zendesk.com", "The address must not contain a user name or password."),
    ("https://:pw@acme.zendesk.com", "The address must not contain a user name or password."),
    ("http://acme.zendesk.com", "Refusing plain http to acme.zendesk.com: Zendesk is reached over HTTPS only "
                                "(plain http is allowed for a simulator on this computer)."),
])
def test_refused_base_urls_say_why(url, message):
    with pytest.raises(UsageError) as info:
        checked_base_url(url)
    assert str(info.value) == message


def test_a_link_on_the_account_origin_is_followed_unchanged():
    url = "https://ACME.zendesk.com:443/api/v2/users.json?page[after]=abc"
    assert same_origin(url, "https://acme.zendesk.com") == url


@pytest.mark.parametrize("url, shown", [
    ("https://evil.io/api/v2/users.json", "evil.io"),
    ("http://acme.zendesk.com/api/v2/users.json", "acme.zendesk.com"),
    ("https://acme.zendesk.com:8443/api/v2/users.json", "acme.zendesk.com"),
    ("/api/v2/users.json", "an unknown host"),
    ("//acme.zendesk.com/api/v2/users.json", "acme.zendesk.com"),
    ("https:///api/v2/users.json", "an unknown host"),
])
def test_a_link_elsewhere_is_refused_naming_the_host(url, shown):
    with pytest.raises(UnsafeUrlError) as info:
        same_origin(url, "https://acme.zendesk.com")
    assert str(info.value) == (
        f"Zendesk sent a link to {shown}, which is not this account's address; "
        "refused so that the token is never sent elsewhere. Try again later or report it.")


@pytest.mark.parametrize("url", ["https://acme.zendesk.com:99999/x", "https://[::1/x"])
def test_an_unreadable_link_is_refused(url):
    with pytest.raises(UnsafeUrlError) as info:
        same_origin(url, "https://acme.zendesk.com")
    assert str(info.value) == ("Zendesk sent a link EvalSync cannot read; refused so that the token is never "
                               "sent elsewhere. Try again later or report it.")
