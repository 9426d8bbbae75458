"""Chat requests on Support-kind accounts: two statuses and the Admin Center page of the step.

``needs_admin_step``: EvalSync did what the public API allows and Chat access must be switched
on in Admin Center (no public API writes it); ``completed_after_admin_step``: a later batch read
that it was. ``admin_url`` keeps the page to open. SQLite cannot widen a CHECK constraint in
place, so the table is rebuilt with the same columns (ids kept: the action log refers to them).
"""

STEP: tuple[str, ...] = (
    """CREATE TABLE chat_requests_new (
        id            INTEGER PRIMARY KEY,
        requester     TEXT NOT NULL,
        email         TEXT NOT NULL,
        first_name    TEXT NOT NULL DEFAULT '',
        last_name     TEXT NOT NULL DEFAULT '',
        requested_at  TEXT NOT NULL,
        source        TEXT NOT NULL DEFAULT 'form',
        source_key    TEXT UNIQUE,
        status        TEXT NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'processing', 'enabled', 'created',
                                        'already_enabled', 'rejected', 'failed',
                                        'needs_admin_step', 'completed_after_admin_step')),
        reason        TEXT,
        agent_id      INTEGER,
        attempts      INTEGER NOT NULL DEFAULT 0,
        updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        admin_url     TEXT
    )""",
    "INSERT INTO chat_requests_new (id, requester, email, first_name, last_name, requested_at, source, source_key,"
    " status, reason, agent_id, attempts, updated_at) SELECT id, requester, email, first_name, last_name,"
    " requested_at, source, source_key, status, reason, agent_id, attempts, updated_at FROM chat_requests",
    "DROP TABLE chat_requests",
    "ALTER TABLE chat_requests_new RENAME TO chat_requests",
    "CREATE INDEX chat_requests_status ON chat_requests (status)",
)
