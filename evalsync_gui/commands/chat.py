"""CLI sub-commands for chat (placeholder until the feature lands)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this feature's sub-commands to the `evalsync` parser."""
