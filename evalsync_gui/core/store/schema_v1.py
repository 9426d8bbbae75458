"""Schema 1: settings, the user directory, sync runs, per-user change records, sync state."""

STEP: tuple[str, ...] = (
    # Non-secret settings as JSON values. Secrets live only in the OS keyring.
    """CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    # EvalSync's own user directory. zendesk_id links a user to Zendesk for good once
    # matched; users added by hand or CSV have source 'manual'/'csv' and may never link.
    """CREATE TABLE users (
        id                  INTEGER PRIMARY KEY,
        zendesk_id          INTEGER UNIQUE,
        name                TEXT NOT NULL DEFAULT '',
        email               TEXT,
        identifier          TEXT,
        status              TEXT NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'active', 'deactivated')),
        source              TEXT NOT NULL DEFAULT 'zendesk'
                            CHECK (source IN ('zendesk', 'manual', 'csv')),
        zendesk_role        TEXT,
        custom_role_id      INTEGER,
        custom_role_name    TEXT,
        evalsync_role       TEXT,
        team                TEXT,
        deactivated_by      TEXT CHECK (deactivated_by IN ('sync', 'admin') OR deactivated_by IS NULL),
        deactivation_reason TEXT,
        flag                TEXT,
        zendesk_active      INTEGER,
        zendesk_suspended   INTEGER,
        zendesk_updated_at  TEXT,
        last_seen_run       INTEGER,
        imported_at         TEXT,
        created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        updated_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    )""",
    "CREATE INDEX users_email ON users (lower(email))",
    "CREATE INDEX users_identifier ON users (identifier)",
    "CREATE INDEX users_status_name ON users (status, name COLLATE NOCASE)",
    "CREATE INDEX users_name ON users (name COLLATE NOCASE)",
    # One row per sync run, written at start so a crash leaves 'running' for the next
    # start to mark 'interrupted'.
    """CREATE TABLE sync_runs (
        id           INTEGER PRIMARY KEY,
        started_at   TEXT NOT NULL,
        finished_at  TEXT,
        trigger      TEXT NOT NULL DEFAULT 'cli',
        mode         TEXT NOT NULL DEFAULT 'full',
        status       TEXT NOT NULL DEFAULT 'running'
                     CHECK (status IN ('running', 'completed', 'failed', 'interrupted', 'held', 'cancelled')),
        dry_run      INTEGER NOT NULL DEFAULT 0,
        requests     INTEGER NOT NULL DEFAULT 0,
        n_new        INTEGER NOT NULL DEFAULT 0,
        n_updated    INTEGER NOT NULL DEFAULT 0,
        n_deactivated INTEGER NOT NULL DEFAULT 0,
        n_held       INTEGER NOT NULL DEFAULT 0,
        n_seen       INTEGER NOT NULL DEFAULT 0,
        error        TEXT,
        pid          INTEGER,
        undone_at    TEXT
    )""",
    "CREATE INDEX sync_runs_started ON sync_runs (started_at)",
    # Every change with old and new value and the reason; 'held' rows are deactivations
    # the guard held back until the admin allows or discards them.
    """CREATE TABLE user_changes (
        id         INTEGER PRIMARY KEY,
        run_id     INTEGER REFERENCES sync_runs (id),
        user_id    INTEGER NOT NULL,
        action     TEXT NOT NULL,
        field      TEXT,
        old_value  TEXT,
        new_value  TEXT,
        reason     TEXT,
        state      TEXT NOT NULL DEFAULT 'applied'
                   CHECK (state IN ('applied', 'held', 'discarded', 'undone', 'planned')),
        at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    )""",
    "CREATE INDEX user_changes_run ON user_changes (run_id)",
    "CREATE INDEX user_changes_user ON user_changes (user_id)",
    # Resumable sync state: cursors, last full reconcile, in-progress listing.
    """CREATE TABLE sync_state (
        key   TEXT PRIMARY KEY,
        value TEXT
    )""",
)
