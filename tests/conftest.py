"""Shared fixtures. Qt runs offscreen; the keyring is a file backend unless a test says otherwise."""

from __future__ import annotations

import os

# Must be set before any Qt import: without a display Qt aborts the process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture
def data_dir(tmp_path):
    """A private, empty data folder."""
    d = tmp_path / "data"
    d.mkdir(mode=0o700)
    return d


@pytest.fixture
def ctx(data_dir):
    from evalsync_gui.core.context import AppContext

    c = AppContext.create(data_dir)
    yield c
    c.db.close()
