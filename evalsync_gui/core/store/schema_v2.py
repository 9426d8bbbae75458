"""Schema 2: Chat agent access requests, the action log, the e-mail outbox, the agent cache."""

STEP: tuple[str, ...] = (
    """CREATE TABLE chat_requests (
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
                                        'already_enabled', 'rejected', 'failed')),
        reason        TEXT,
        agent_id      INTEGER,
        attempts      INTEGER NOT NULL DEFAULT 0,
        updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    )""",
    "CREATE INDEX chat_requests_status ON chat_requests (status)",
    """CREATE TABLE chat_actions (
        id              INTEGER PRIMARY KEY,
        at              TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        request_id      INTEGER,
        actor           TEXT,
        email           TEXT,
        action          TEXT NOT NULL,
        detail          TEXT,
        zendesk_status  INTEGER,
        zendesk_answer  TEXT
    )""",
    "CREATE INDEX chat_actions_at ON chat_actions (at)",
    """CREATE TABLE email_outbox (
        id          INTEGER PRIMARY KEY,
        request_id  INTEGER,
        to_addr     TEXT NOT NULL,
        subject     TEXT NOT NULL,
        body        TEXT NOT NULL,
        status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
        attempts    INTEGER NOT NULL DEFAULT 0,
        last_error  TEXT,
        created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        sent_at     TEXT
    )""",
    """CREATE TABLE chat_agents (
        id           INTEGER PRIMARY KEY,
        email        TEXT,
        display_name TEXT,
        first_name   TEXT,
        last_name    TEXT,
        enabled      INTEGER,
        last_login   TEXT,
        departments  TEXT,
        is_admin     INTEGER NOT NULL DEFAULT 0,
        is_owner     INTEGER NOT NULL DEFAULT 0,
        fetched_at   TEXT
    )""",
    "CREATE INDEX chat_agents_email ON chat_agents (lower(email))",
)
