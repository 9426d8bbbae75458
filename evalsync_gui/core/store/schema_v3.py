"""Schema 3: indices for the users table's sortable columns, per status view and overall.

Each ORDER BY in ``core.directory`` is ``<column> , id``; an index on (status, column)
serves it without a sort step because the rowid is the implicit last key.
"""

STEP: tuple[str, ...] = (
    "CREATE INDEX users_status_email ON users (status, lower(email))",
    "CREATE INDEX users_status_zrole ON users (status, zendesk_role)",
    "CREATE INDEX users_status_crole ON users (status, custom_role_name COLLATE NOCASE)",
    "CREATE INDEX users_status_imported ON users (status, imported_at)",
    "CREATE INDEX users_status_updated ON users (status, updated_at)",
    "CREATE INDEX users_status ON users (status)",  # (status, rowid) order for the All view's Status sort
    "CREATE INDEX users_zrole ON users (zendesk_role)",
    "CREATE INDEX users_crole ON users (custom_role_name COLLATE NOCASE)",
    "CREATE INDEX users_imported ON users (imported_at)",
    "CREATE INDEX users_updated ON users (updated_at)",
    # The Runs page and the held banner count and list held deactivations on every reload.
    "CREATE INDEX user_changes_held ON user_changes (run_id) WHERE state = 'held'",
)
