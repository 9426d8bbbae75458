"""URL rules: HTTPS only (except a loopback simulator) and same-origin pagination links.

A pagination link (``links.next``, ``after_url``, ``next_page``) comes from the network; if
it pointed at another host, following it would send the account's token there. So every
absolute URL is checked against the account's origin before a request is made.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from evalsync_gui.core.errors import UnsafeUrlError, UsageError

LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` in lower case, with default ports dropped."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is None or (scheme, port) in (("https", 443), ("http", 80)):
        netloc = f"[{host}]" if ":" in host else host
    else:
        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return f"{scheme}://{netloc}"


def checked_base_url(url: str) -> str:
    """Validate a Zendesk base URL and return its origin; plain http only on loopback."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise UsageError(f"{url!r} is not a valid address.") from exc
    url = url.strip()  # the origin is the address that was checked, not the one with spaces around it
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(f"{url!r} is not a valid address; use https://SUBDOMAIN.zendesk.com.")
    if parts.username or parts.password:
        raise UsageError("The address must not contain a user name or password.")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(f"Refusing plain http to {parts.hostname}: Zendesk is reached over HTTPS only "
                         "(plain http is allowed for a simulator on this computer).")
    return origin_of(url)


def same_origin(url: str, base_origin: str) -> str:
    """Return ``url`` if it is on ``base_origin``, else raise UnsafeUrlError (the token stays home)."""
    try:
        parts = urlsplit(url)
        origin = origin_of(url) if parts.scheme and parts.hostname else ""
    except ValueError:  # a bad port or bracket: not an address we can trust
        raise UnsafeUrlError("Zendesk sent a link EvalSync cannot read; refused so that the token is never "
                             "sent elsewhere. Try again later or report it.") from None
    if not origin or origin != base_origin:
        shown = parts.hostname or "an unknown host"
        raise UnsafeUrlError(
            f"Zendesk sent a link to {shown}, which is not this account's address; "
            "refused so that the token is never sent elsewhere. Try again later or report it."
        )
    return url
