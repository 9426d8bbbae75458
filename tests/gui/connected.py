"""Fixture: a context signed in to the test simulator with its API token (real HTTP, file keyring)."""

from __future__ import annotations

import pytest

from tests.keyring_backends import file_keyring  # noqa: F401  (fixture used below)


@pytest.fixture
def connected(ctx, sim, file_keyring):  # noqa: F811
    from evalsync_gui.core.auth.session import connect_api_token

    connect_api_token(ctx, "abc-energy", sim.admin_email, sim.api_token, base_url=sim.base_url)
    return ctx
