"""Helpers for the simulator's own tests: httpx clients speaking to a running simulator."""

from __future__ import annotations

import httpx
import pytest


def client_for(sim, email=None, token=None, **kw) -> httpx.Client:
    """A client authenticated with an API token (the seeded admin's by default)."""
    return httpx.Client(base_url=sim.base_url, auth=(f"{email or sim.admin_email}/token", token or sim.api_token),
                        timeout=10, **kw)


def chat_client_for(sim, scope="read write", **kw) -> httpx.Client:
    """A client with a Chat OAuth token (the only credential the Chat API takes)."""
    return httpx.Client(base_url=sim.base_url, headers={"Authorization": f"Bearer {sim.chat_token(scope)}"},
                        timeout=10, **kw)


@pytest.fixture
def api(sim):
    with client_for(sim) as c:
        yield c


def walk(client: httpx.Client, url: str, params=None) -> list[dict]:
    """Follow cursor pages the recorded way: stop on has_more false or an empty page."""
    pages = []
    resp = client.get(url, params=params)
    while True:
        assert resp.status_code == 200, resp.text
        page = resp.json()
        pages.append(page)
        if not page["meta"]["has_more"] or not page["users"]:
            return pages
        resp = client.get(page["links"]["next"])
