"""The Inactivity page: preview the policy over a fresh read, then act on what the preview shows.

It names what it measures (the Chat agent's last login, or the last Zendesk sign-in, which
API-token requests also move). Writable kind: Apply disables or deletes Chat agents. Support
kind: EvalSync changes nothing; the rows are admin steps with a CSV export.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QMessageBox, QPushButton, QSpinBox, QVBoxLayout, QWidget

from evalsync_gui.core.chat.inactivity import ADMIN_STEP, KEEP, SOURCE_LABELS, Policy
from evalsync_gui.core.errors import EvalsyncError
from evalsync_gui.gui import chat_jobs as jobs
from evalsync_gui.gui.chat.runner import ChatRunner
from evalsync_gui.gui.chat.widgets import ask_export_path, make_table, plain_label
from evalsync_gui.gui.chat_models import POLICY_COLUMNS, RowsModel


def source_text(source: str | None, kind: str | None) -> str:
    """What the idle days are counted from, named for the admin."""
    label = SOURCE_LABELS.get(source or "", "")
    if not label:
        return "Idle days count from the Chat agent's last login (Chat API); Preview reads them."
    text = f"Idle days count from: {label}."
    if kind == "support":
        return text + " On this account EvalSync writes nothing for inactivity: it lists admin steps."
    return text + " Nothing changes until you press Apply."


class InactivityPage(QWidget):
    """Disable/delete thresholds, exemptions, Preview and Apply."""

    def __init__(self, runner: ChatRunner, management_on, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.management_on = management_on
        self.preview: dict | None = None
        v = QVBoxLayout(self)
        v.addLayout(self._controls())
        self.source_note = plain_label()
        self.source_note.setAccessibleName("What the idle days measure")
        v.addWidget(self.source_note)
        v.addWidget(plain_label("Only Chat access is ever removed: no Support user is suspended, deleted or given "
                                "another role. The account owner and admins are never touched."))
        self.model = RowsModel(POLICY_COLUMNS, colour_key="action")
        self.view, _proxy = make_table(self.model, self, "Policy preview", runner.services)
        self.summary = QLabel()
        v.addWidget(self.summary)
        v.addWidget(self.view)
        runner.busy_changed.connect(lambda busy: self.preview_button.setEnabled(not busy))
        runner.snapshot.connect(self._show_source)
        self.load(runner.ctx.settings)

    def _controls(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.disable_after, self.delete_after = QSpinBox(), QSpinBox()
        for spin in (self.disable_after, self.delete_after):
            spin.setRange(1, 3650)
            spin.setSuffix(" days")
        self.exempt = QLineEdit()
        self.exempt.setPlaceholderText("Exempt e-mails or domains, comma separated")
        self.exempt.setAccessibleName("Exempt e-mails or domains")
        for text, spin in (("&Disable after", self.disable_after), ("De&lete after", self.delete_after)):
            caption = QLabel(text)
            caption.setBuddy(spin)
            row.addWidget(caption)
            row.addWidget(spin)
        row.addWidget(self.exempt, 1)
        self.preview_button = QPushButton("Preview")
        self.preview_button.clicked.connect(self.preview_policy)
        self.apply_button = QPushButton("Apply…")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply_policy)
        self.export_button = QPushButton("Export admin steps…")
        self.export_button.setToolTip("Save the agents to switch Chat off for in Admin Center as a CSV file")
        self.export_button.setVisible(False)
        self.export_button.clicked.connect(self.export_steps)
        row.addWidget(self.preview_button)
        row.addWidget(self.apply_button)
        row.addWidget(self.export_button)
        return row

    def _show_source(self, snap: dict) -> None:
        if self.preview is None:
            self.source_note.setText(source_text(snap.get("last_login_source"), snap.get("kind")))

    def load(self, settings) -> None:
        from evalsync_gui.core.chat import service

        pol = service.policy(settings)
        self.disable_after.setValue(pol.disable_after)
        self.delete_after.setValue(pol.delete_after)
        self.exempt.setText(", ".join(pol.exempt))

    def policy_from_form(self) -> Policy:
        exempt = [e.strip().lower() for e in self.exempt.text().split(",") if e.strip()]
        return Policy(self.disable_after.value(), self.delete_after.value(), exempt)

    def preview_policy(self) -> None:
        """Save the thresholds and preview them over a fresh read of the agents (changes nothing)."""
        pol = self.policy_from_form()
        try:
            pol.check()
        except EvalsyncError as exc:
            self.runner.say(str(exc))
            return
        self.runner.start(jobs.policy_preview, self.runner.ctx, self.runner.open_support, pol,
                          on_done=self.show_preview)

    def show_preview(self, preview: dict) -> None:
        self.preview = preview
        rows = jobs.result_rows(preview)
        self.model.set_rows(rows)
        acting = [r for r in rows if r["action"] != KEEP]
        steps = sum(1 for r in acting if r["action"] == ADMIN_STEP)
        self.source_note.setText(source_text(preview.get("source"), preview["mode"]))
        if preview["mode"] == "support":
            self.summary.setText(f"{steps} admin steps: switch Chat off for them in Admin Center "
                                 f"(Export admin steps… lists them); {len(rows) - len(acting)} unchanged.")
        else:
            dis = sum(1 for r in acting if r["action"] == "disable")
            self.summary.setText(f"{dis} to disable, {len(acting) - dis} to delete, "
                                 f"{len(rows) - len(acting)} unchanged.")
        self.apply_button.setVisible(preview["mode"] != "support")
        self.apply_button.setEnabled(bool(acting) and preview["mode"] != "support")
        self.export_button.setVisible(preview["mode"] == "support")
        self.export_button.setEnabled(bool(steps))
        self.runner.say("Preview ready: nothing has changed yet.")

    def export_steps(self) -> None:
        """Save the previewed admin steps as CSV (the Support kind's answer to inactivity)."""
        if not self.preview:
            return
        path = ask_export_path(self, "Export the admin steps", "chat-inactivity-steps.csv")
        if path:
            self.runner.start(jobs.export_steps, list(self.preview["rows"]), path)

    def apply_policy(self) -> None:
        """Ask, then disable/delete what the preview shows."""
        if not self.preview:
            return
        if not self.management_on():
            self.runner.say("Turn on Chat management to apply the policy.")
            return
        acting = [r for r in self.preview["rows"] if r.action != KEEP]
        answer = QMessageBox.question(self, "Apply the inactivity policy",
                                      f"Disable or delete {len(acting)} chat agents as shown in the preview?")
        if answer == QMessageBox.Yes:
            self.confirm_apply()

    def confirm_apply(self) -> None:
        """Apply the shown preview (after the confirmation)."""
        preview, self.preview = self.preview, None
        self.apply_button.setEnabled(False)
        self.export_button.setEnabled(False)
        self.runner.start(jobs.policy_apply, self.runner.ctx, self.runner.open_support, preview)
