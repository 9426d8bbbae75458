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


# Written to kill the mutants `make mutate MODULES=chat.domains` left alive: the whole reason an
# admin reads is pinned, not just a word of it, and each refused character is tried alone.
@pytest.mark.parametrize("email, reason", [
    ("", "no e-mail address"),
    ("   ", "no e-mail address"),
    ("x\ty@acme.com", "the address contains spaces"),
    ('x"y@acme.com', "quoted or commented addresses are not accepted"),
    ("x\\y@acme.com", "quoted or commented addresses are not accepted"),
    ("x(y@acme.com", "quoted or commented addresses are not accepted"),
    ("xy)@acme.com", "quoted or commented addresses are not accepted"),
    ("x.acme.com", "the address has no @"),
    ("x@y@acme.com", "the address has more than one @"),
    ("@acme.com", "the address has nothing before the @"),
    ("x%y@acme.com", "the part before the @ has characters an agent address cannot have"),
    ("x!y@acme.com", "the part before the @ has characters an agent address cannot have"),
    ("x@acme..com", "the part after the @ is not a domain name"),
    ("x@acme.com.", "the part after the @ is not a domain name"),
    ("x@other.org", "other.org is not an allowed domain (acme.com, acme.co.uk)"),
])
def test_each_refusal_gives_its_full_reason(email, reason):
    assert domain_problem(email, ALLOWED) == reason


def test_empty_allow_list_names_where_to_configure_it():
    assert domain_problem("zoe@acme.com", []) == "no allowed domain is configured (Chat settings → Domains)"


def test_a_bad_domain_entry_is_named_in_the_error():
    with pytest.raises(ValueError, match=r"^'acme' is not a domain name \(expected something like acme\.com\)$"):
        normalize_domains(["acme.com", " acme "])


def test_blank_and_whitespace_entries_are_skipped():
    assert normalize_domains(["", "   ", "\t", "acme.com"]) == ["acme.com"]


def test_the_matching_key_is_trimmed_and_lower_case():
    from evalsync_gui.core.chat.domains import normalize_email

    assert normalize_email("  Zoe.OBrien@ACME.com\t") == "zoe.obrien@acme.com"
