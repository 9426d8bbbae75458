"""Turn what an admin types in the account field into a Zendesk subdomain and address.

Accepted: ``abc-energy``, ``abc-energy.zendesk.com`` and any ``https://abc-energy.zendesk.com/...``
address; each resolves to ``abc-energy`` and ``https://abc-energy.zendesk.com``. Anything else
is refused with one line that says why, so a typo never sends credentials to another host.
A ``base_url`` override (``--base-url``) may only be https, or http on a loopback address
(the simulator).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from evalsync_gui.core.errors import UsageError
from evalsync_gui.core.zendesk.urls import checked_base_url

ZENDESK_DOMAIN = "zendesk.com"
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class Account:
    """A resolved Zendesk account: ``subdomain`` and the origin EvalSync will call."""

    subdomain: str
    base_url: str

    @property
    def host(self) -> str:
        """The host shown to the admin, e.g. ``abc-energy.zendesk.com``."""
        return urlsplit(self.base_url).netloc


def check_label(name: str) -> str:
    """Return ``name`` lower-cased if it is a valid DNS label, else raise UsageError."""
    if not name:
        raise UsageError("Type the Zendesk account name, e.g. abc-energy for https://abc-energy.zendesk.com.")
    if len(name) > 63:
        raise UsageError(f"The account name is {len(name)} characters long; Zendesk account names have 1 to 63.")
    lowered = name.lower()
    if lowered.startswith("-") or lowered.endswith("-"):
        raise UsageError(f"{name!r} starts or ends with a hyphen; account names cannot.")
    if not _LABEL.fullmatch(lowered):
        bad = next((c for c in lowered if not (c.isascii() and (c.isalnum() or c == "-"))), "?")
        raise UsageError(f"{name!r} contains {bad!r}; account names use only letters, digits and hyphens.")
    return lowered


def _subdomain_from_host(host: str, original: str) -> str:
    host = host.lower().rstrip(".")
    suffix = "." + ZENDESK_DOMAIN
    if not host.endswith(suffix):
        raise UsageError(f"{original!r} names the host {host}, not a Zendesk account (NAME{suffix}); "
                         "type just the account name, e.g. abc-energy.")
    label = host[: -len(suffix)]
    if "." in label:
        raise UsageError(f"{original!r} has more than one name before {ZENDESK_DOMAIN}; type just the account name.")
    return check_label(label)


def parse_subdomain(text: str) -> str:
    """The subdomain named by ``text`` (bare name, host name or https address)."""
    raw = (text or "").strip()
    if "://" in raw:
        parts = urlsplit(raw)
        if parts.scheme.lower() != "https":
            raise UsageError(f"{raw!r} is not an https address; Zendesk is reached over HTTPS only.")
        if parts.username or parts.password:
            raise UsageError("The address must not contain a user name or password.")
        try:
            port = parts.port
        except ValueError as exc:
            raise UsageError(f"{raw!r} has an invalid port.") from exc
        if port not in (None, 443):
            raise UsageError(f"{raw!r} names port {port}; Zendesk accounts use the standard https port.")
        return _subdomain_from_host(parts.hostname or "", raw)
    if "/" in raw or ":" in raw:
        raise UsageError(f"{raw!r} is not an account name; type e.g. abc-energy or https://abc-energy.zendesk.com.")
    if "." in raw:
        return _subdomain_from_host(raw, raw)
    return check_label(raw)


def resolve_account(text: str, base_url: str | None = None) -> Account:
    """Resolve the account field (and an optional ``--base-url`` override) to an :class:`Account`."""
    subdomain = parse_subdomain(text)
    if base_url:
        return Account(subdomain, checked_base_url(base_url))
    return Account(subdomain, f"https://{subdomain}.{ZENDESK_DOMAIN}")
