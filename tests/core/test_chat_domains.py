"""The domain allow-list: exact domain match, every lookalike refused with a reason."""

from __future__ import annotations

import pytest

from evalsync_gui.core.chat.domains import domain_problem, normalize_domains

ALLOWED = ["acme.com", "acme.co.uk"]


@pytest.mark.parametrize("email", ["zoe@acme.com", "Zoe.OBrien@ACME.COM", "a+chat@acme.co.uk", " x@acme.com "])
def test_allowed(email):
    assert domain_problem(email, ALLOWED) is None


@pytest.mark.parametrize("email, words", [
    ("x@acme.com.evil.io", "only starts with"),
    ("x@evil-acme.com", "only ends with"),
    ("x@sub.acme.com", "sub-domain"),
    ('"x@acme.com"@evil.io', "quoted"),
    ('"x"@acme.com', "quoted"),
    ("x.acme.com", "no @"),
    ("x@evil.io@acme.com", "more than one @"),
    ("x@acme.com@evil.io", "more than one @"),
    ("@acme.com", "nothing before"),
    ("x y@acme.com", "spaces"),
    ("x@acme.com.", "not a domain"),
    ("x@acme", "not a domain"),
    ("x@other.org", "not an allowed domain"),
    ("", "no e-mail"),
    ("x(comment)@acme.com", "quoted or commented"),
])
def test_traps_rejected_with_reason(email, words):
    problem = domain_problem(email, ALLOWED)
    assert problem and words in problem


def test_empty_allow_list_refuses_everyone():
    assert "no allowed domain" in domain_problem("x@acme.com", [])


def test_normalize_domains():
    assert normalize_domains(["@ACME.com ", "acme.com", "", "acme.co.uk"]) == ["acme.com", "acme.co.uk"]
    with pytest.raises(ValueError):
        normalize_domains(["not a domain"])
    with pytest.raises(ValueError):
        normalize_domains(["acme"])
