"""EvalSync's core: Zendesk client, store, sync engine and chat logic.

Nothing in this package imports Qt (an import-linter contract enforces it), so every
piece can run in the CLI, in tests without a display, or on a GUI worker thread.
"""
