"""Chat intake without an admin at the keyboard: request sources, the rows taken from them,
unattended runs, creations held for review, and per-request retry timing.

New tables only (``chat_requests`` keeps its columns and CHECK, which other work changes):

* ``chat_sources``: a published Google Sheet (``sheet``) or a growing local CSV (``file``)
  with its saved column mapping and, for a file, how far it was read (``read_offset`` after the
  last whole line, ``header`` the first line that offset belongs to).
* ``chat_source_rows``: one row per (source, identity) ever taken; ``digest`` is the content
  that was taken, so a later edit is noticed and reported, never run again.
* ``chat_runs``: one row per scheduled / ``chat run`` pass with its counts.
* ``chat_holds``: requests a run held for review (a creation burst); ``decision`` is NULL
  until the admin allows or discards them.
* ``chat_request_retries``: when a request that failed may be tried again (backoff).
"""

STEP: tuple[str, ...] = (
    """CREATE TABLE chat_sources (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        kind        TEXT NOT NULL CHECK (kind IN ('sheet', 'file')),
        location    TEXT NOT NULL,
        mapping     TEXT NOT NULL,
        read_offset INTEGER NOT NULL DEFAULT 0,
        header      TEXT,
        last_poll   TEXT,
        rows_taken  INTEGER NOT NULL DEFAULT 0,
        last_error  TEXT,
        created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    )""",
    """CREATE TABLE chat_source_rows (
        source_id   INTEGER NOT NULL,
        identity    TEXT NOT NULL,
        digest      TEXT NOT NULL,
        line        INTEGER,
        request_id  INTEGER,
        status      TEXT,
        reason      TEXT,
        taken_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        changed_digest TEXT,
        PRIMARY KEY (source_id, identity)
    )""",
    "CREATE INDEX chat_source_rows_request ON chat_source_rows (request_id)",
    """CREATE TABLE chat_runs (
        id           INTEGER PRIMARY KEY,
        trigger      TEXT NOT NULL,
        status       TEXT NOT NULL CHECK (status IN ('running', 'completed', 'held', 'failed')),
        started_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        finished_at  TEXT,
        counts       TEXT,
        message      TEXT
    )""",
    """CREATE TABLE chat_holds (
        request_id  INTEGER PRIMARY KEY,
        run_id      INTEGER NOT NULL,
        decision    TEXT CHECK (decision IN ('allowed', 'discarded')),
        decided_at  TEXT
    )""",
    """CREATE TABLE chat_request_retries (
        request_id   INTEGER PRIMARY KEY,
        retry_after  TEXT NOT NULL
    )""",
)
