"""Schema step: a machine-readable reason on every change row, and held rows found by user.

``user_changes.reason_code`` says why a deactivation was planned or held, in words a program
can branch on (the ``reason`` column keeps the sentence for people):

    suspended      suspended in Zendesk
    deleted        deleted in Zendesk (still readable with include_deleted)
    gone           no longer in Zendesk at all (absent from a complete listing, not found)
    role_changed   the Zendesk role changed and the new one is not imported
    out_of_scope   the role is unchanged but the sync no longer imports it (scope changed)

NULL on rows written before this step and on rows that are not deactivations. Held rows are
looked up by user when a newer read expires them, hence the partial index.
"""

STEP: tuple[str, ...] = (
    "ALTER TABLE user_changes ADD COLUMN reason_code TEXT",
    "CREATE INDEX user_changes_held_user ON user_changes (user_id) WHERE state = 'held'",
)
