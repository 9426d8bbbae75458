"""User sync: Zendesk users into EvalSync's local directory.

The one public entry point is :func:`evalsync_gui.core.sync.runner.run_sync`. The algorithm,
in the vdirsyncer spirit: fetch pages (cursor listing or incremental export), turn each
Zendesk user plus its local row into small actions with a pure decision table
(:mod:`.decisions`), apply each page's actions together with its cursor in one transaction
(:mod:`.apply`), and only at the end of a *complete* read decide deactivations, which the
guard (:mod:`.guard`) may hold for the admin. Nothing is ever written to Zendesk.
"""
