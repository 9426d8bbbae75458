"""The domain allow-list: who may be given a Chat seat.

The seed's Zapier filter was "e-mail *contains* @acme.com", which lets
``x@acme.com.evil.io`` through. Here the part after the one ``@`` must *equal* an allowed
domain (case-insensitive), and the address must be a plain ``local@domain`` with no quoting,
spaces or second ``@``. Every refusal comes with a reason an admin can read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# A dot-atom local part (RFC 5322 without quoted strings or comments): what mail systems
# and Zendesk accept for agents in practice.
# "%" and "!" are refused: old source-routing syntaxes (user%host@relay, host!user@relay) can
# make a relay deliver somewhere other than the allowed domain.
_LOCAL = re.compile(r"^[A-Za-z0-9#$&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9#$&'*+/=?^_`{|}~-]+)*$")
MAX_LOCAL = 64  # RFC 5321 4.5.3.1.1
_SPACE = re.compile(r"\s")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def normalize_domain(domain: str) -> str:
    """``"@ACME.com "`` -> ``"acme.com"``; raises ValueError when it is not a domain name."""
    d = domain.strip().lower()
    if d.startswith("@"):
        d = d[1:]
    labels = d.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"{domain.strip()!r} is not a domain name (expected something like acme.com)")
    return d


def normalize_domains(domains: Iterable[str]) -> list[str]:
    """Clean, de-duplicated allow-list in the order given; raises ValueError on a bad entry."""
    out: list[str] = []
    for raw in domains:
        if raw and raw.strip():
            d = normalize_domain(raw)
            if d not in out:
                out.append(d)
    return out


def address_problem(email: str) -> str | None:
    """Why ``email`` is not a usable plain address, or None when it is."""
    if not email or not email.strip():
        return "no e-mail address"
    e = email.strip()
    if _SPACE.search(e):
        return "the address contains spaces"
    if '"' in e or "\\" in e or "(" in e or ")" in e:
        return "quoted or commented addresses are not accepted"
    count = e.count("@")
    if count == 0:
        return "the address has no @"
    if count > 1:
        return "the address has more than one @"
    local, domain = e.split("@")
    if not local:
        return "the address has nothing before the @"
    if len(local) > MAX_LOCAL:
        return f"the part before the @ is longer than {MAX_LOCAL} characters"
    if not _LOCAL.fullmatch(local):
        return "the part before the @ has characters an agent address cannot have"
    try:
        normalize_domain(domain)
    except ValueError:
        return "the part after the @ is not a domain name"
    if domain.endswith("."):
        return "the domain ends with a dot"
    return None


def domain_problem(email: str, allowed: Iterable[str]) -> str | None:
    """Why ``email`` may not get a Chat seat under ``allowed``, or None when it may.

    An empty allow-list refuses everyone: the admin has to say which domains are trusted.
    """
    problem = address_problem(email)
    if problem:
        return problem
    allowed_list = [d.lower() for d in allowed]
    if not allowed_list:
        return "no allowed domain is configured (Chat settings → Domains)"
    domain = email.strip().rsplit("@", 1)[1].lower()
    if domain in allowed_list:
        return None
    for d in allowed_list:
        if domain.endswith("." + d):
            return f"{domain} is a sub-domain of {d}, not {d} itself"
        if domain.startswith(d + "."):
            return f"{domain} only starts with {d}; it is another domain"
        if domain.endswith(d):
            return f"{domain} only ends with {d}; it is another domain"
    return f"{domain} is not an allowed domain ({', '.join(allowed_list)})"


def normalize_email(email: str) -> str:
    """The key used to match an address with an agent: trimmed and lower-cased."""
    return email.strip().lower()
