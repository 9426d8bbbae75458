"""Parts 1 to 3 of the User sync tab: identifier, roles to import, schedule; plus sync controls.

The identifier choices and custom roles come live from Zendesk (``GET /api/v2/user_fields``,
``GET /api/v2/custom_roles``) on a worker thread; the saved choices are kept even while the
lists are loading or the connection is down.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QListWidget, QListWidgetItem, QProgressBar, QPushButton, QVBoxLayout, QWidget)

from evalsync_gui.core.errors import UsageError
from evalsync_gui.core.sync.config import SyncConfig, describe_scope, load_config, save_config
from evalsync_gui.gui import theme
from evalsync_gui.gui.services import Services
from evalsync_gui.gui.sync_controller import SyncController
from evalsync_gui.gui.workers import Task, TaskController

ROLE_KEY = Qt.ItemDataRole.UserRole + 1
# Zendesk's system roles also come back from /custom_roles: role_type 4 is "Admin" and 5 the
# billing admin. They are covered by the Admins tick box, so they are not offered as custom roles.
SYSTEM_ROLE_TYPES = {4, 5}


def choosable_roles(custom_roles: list[dict]) -> list[dict]:
    """The custom roles an admin may pick (agent-level roles, light agents...), without system roles."""
    return [r for r in custom_roles if r.get("role_type") not in SYSTEM_ROLE_TYPES]


def load_zendesk_lists(task: Task, ctx) -> dict[str, list[dict]]:
    """Worker body: the account's custom roles and user fields (empty lists if not connected)."""
    from evalsync_gui.core.sync.config import fetch_custom_roles, fetch_user_fields

    try:
        from evalsync_gui.core.auth.session import open_client
    except ImportError as exc:
        raise UsageError("Connect to Zendesk first (Connection tab) to load roles and fields.") from exc
    from evalsync_gui.core.chat.service import custom_roles_available, remember_custom_roles

    client = open_client(ctx)
    roles = fetch_custom_roles(client, on_plan=remember_custom_roles(ctx.settings))  # below Enterprise: none
    task.raise_if_cancelled()
    return {"custom_roles": roles, "user_fields": fetch_user_fields(client),
            "custom_roles_available": custom_roles_available(ctx.settings)}


def progress_text(p: Any) -> str:
    """One line for a SyncProgress: pages, users, requests and any rate-limit wait."""
    if p is None:
        return ""
    parts = [getattr(p, "message", "") or str(getattr(p, "phase", "")).capitalize()]
    parts.append(f"page {getattr(p, 'pages', 0):,}")
    parts.append(f"{getattr(p, 'users', 0):,} users")
    parts.append(f"{getattr(p, 'requests', 0):,} requests")
    wait = getattr(p, "rate_wait", 0) or 0
    if wait:
        parts.append(f"waiting {wait:.0f} s for Zendesk's rate limit")
    return " · ".join(x for x in parts if x)


def result_text(r: Any) -> str:
    """One line for a SyncResult."""
    status = getattr(r, "status", "?")
    if getattr(r, "dry_run", False):
        return (f"Preview: would add {r.new:,}, update {r.updated:,}, deactivate {r.deactivated:,}"
                + (f", hold {r.held:,}" if r.held else "") + " — nothing was changed.")
    if status == "failed":
        return f"Sync failed: {r.error or 'see the log'}"
    text = f"Sync {status}: {r.new:,} new (Pending), {r.updated:,} updated, {r.deactivated:,} deactivated"
    if r.held:
        text += f"; {r.held:,} deactivations held for review"
    return text + f" ({r.requests:,} requests)."


class SyncConfigPanel(QWidget):
    """The left column of the User sync tab."""

    config_saved = Signal()

    def __init__(self, services: Services, controller: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.controller = controller
        self.config = load_config(services.ctx)
        self._role_names: dict[int, str] = {}
        self._lists = TaskController(self, name="users.zendesk-lists")
        self._lists.finished.connect(self._show_lists)
        self._lists.failed.connect(self._lists_failed)
        self._build()
        self._fill_from_config()
        controller.progress.connect(self._on_progress)
        controller.running_changed.connect(self._on_running)
        controller.finished.connect(lambda r: self.result_label.setText(result_text(r)))
        controller.failed.connect(lambda m: self.result_label.setText(m))
        controller.cancelled.connect(lambda: self.result_label.setText("Cancelled; nothing was half-applied."))

    # -- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)

        part1 = QGroupBox("1. Primary identifier")
        f1 = QVBoxLayout(part1)
        self.identifier = QComboBox()
        self.identifier.setAccessibleName("Primary identifier")
        self.identifier.addItem("Default: Zendesk user ID, then e-mail", "default")
        self.identifier.addItem("External ID", "external_id")
        self.identifier.currentIndexChanged.connect(self._changed)
        f1.addWidget(self.identifier)
        hint = QLabel("Leave on Default if you match users by Zendesk ID or e-mail address.")
        hint.setWordWrap(True)
        hint.setStyleSheet(theme.colour_css("muted"))
        f1.addWidget(hint)
        outer.addWidget(part1)

        part2 = QGroupBox("2. Which users to import")
        f2 = QVBoxLayout(part2)
        self.roles = QListWidget()
        self.roles.setAccessibleName("Which users to import")
        self.roles.setMaximumHeight(120)
        self.roles.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.roles.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.roles.itemChanged.connect(self._changed)
        f2.addWidget(self.roles)
        self.rule = QLabel()
        self.rule.setWordWrap(True)
        f2.addWidget(self.rule)
        self.no_custom_roles = QLabel("This Zendesk plan has no custom roles (Enterprise only): agents and admins "
                                      "sync as usual.")
        self.no_custom_roles.setWordWrap(True)
        self.no_custom_roles.setVisible(False)
        f2.addWidget(self.no_custom_roles)
        row = QHBoxLayout()
        self.reload_btn = QPushButton("Reload roles and fields")
        self.reload_btn.setToolTip("Read the custom roles and user fields from Zendesk again")
        self.reload_btn.clicked.connect(self.load_lists)
        row.addWidget(self.reload_btn)
        row.addStretch(1)
        f2.addLayout(row)
        outer.addWidget(part2)

        part3 = QGroupBox("3. Enable User Sync")
        f3 = QFormLayout(part3)
        self.interval = QDoubleSpinBox()
        self.interval.setAccessibleName("Sync every (hours)")
        self.interval.setRange(0.25, 720)
        self.interval.setDecimals(2)
        self.interval.setSuffix(" hours")
        self.interval.valueChanged.connect(self._changed)
        f3.addRow("Sync every", self.interval)
        self.enable_btn = QPushButton("Enable User Sync")
        self.enable_btn.clicked.connect(self.toggle_enabled)
        self.schedule_label = QLabel()
        self.schedule_label.setWordWrap(True)
        f3.addRow(self.enable_btn)
        f3.addRow(self.schedule_label)
        outer.addWidget(part3)

        run = QGroupBox("Sync")
        f4 = QVBoxLayout(run)
        buttons = QHBoxLayout()
        self.sync_btn = QPushButton("Sync now")
        self.sync_btn.setToolTip("Sync now (F5)")
        self.sync_btn.clicked.connect(self.sync_now)
        self.preview_btn = QPushButton("Preview")
        self.preview_btn.setToolTip("Show what a sync would change without changing anything")
        self.preview_btn.clicked.connect(self.preview)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.cancel_btn.clicked.connect(self.controller.cancel)
        for b in (self.sync_btn, self.preview_btn, self.cancel_btn):
            buttons.addWidget(b)
        f4.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        f4.addWidget(self.progress)
        self.live = QLabel("Idle")
        self.live.setWordWrap(True)
        f4.addWidget(self.live)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextFormat(Qt.TextFormat.PlainText)  # failures quote Zendesk's error text
        f4.addWidget(self.result_label)
        outer.addWidget(run)
        outer.addStretch(1)

    # -- config <-> widgets ----------------------------------------------------------------
    def _fill_from_config(self) -> None:
        cfg = self.config
        self._filling = True
        self.interval.setValue(float(cfg.interval_hours or 6))
        self._set_identifier(cfg.identifier or "default")
        self._fill_roles([])
        self._filling = False
        self._update_rule()
        self._update_schedule()

    def _set_identifier(self, value: str) -> None:
        i = self.identifier.findData(value)
        if i < 0:
            self.identifier.addItem(f"Custom field {value.removeprefix('user_fields.')}", value)
            i = self.identifier.count() - 1
        self.identifier.setCurrentIndex(i)

    def _fill_roles(self, custom_roles: list[dict]) -> None:
        self._filling = True
        chosen = set(self.current_roles() if self.roles.count() else self.config.roles)
        self.roles.clear()
        entries = [("agent", "Agents"), ("admin", "Admins")]
        custom_roles = choosable_roles(custom_roles)
        self._role_names = {int(r["id"]): r.get("name", str(r["id"])) for r in custom_roles if "id" in r}
        for r in custom_roles:
            count = r.get("team_member_count")
            label = f"Custom role: {r.get('name')}" + (f" ({count:,} members)" if count is not None else "")
            entries.append((f"custom:{r['id']}", label))
        known = {k for k, _ in entries}
        entries += [(k, f"Custom role {k[7:]} (not loaded)") for k in sorted(chosen - known)]
        for key, label in entries:
            item = QListWidgetItem(label)
            item.setData(ROLE_KEY, key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if key in chosen else Qt.CheckState.Unchecked)
            self.roles.addItem(item)
        self._filling = False

    def current_roles(self) -> list[str]:
        return [self.roles.item(i).data(ROLE_KEY) for i in range(self.roles.count())
                if self.roles.item(i).checkState() == Qt.CheckState.Checked]

    def current_config(self) -> SyncConfig:
        return SyncConfig(roles=self.current_roles(), identifier=self.identifier.currentData() or "default",
                          interval_hours=self.interval.value(), deactivation_limit=self.config.deactivation_limit,
                          enabled=self.config.enabled)

    def _changed(self, *_: Any) -> None:
        if getattr(self, "_filling", False):
            return
        self._update_rule()
        cfg = self.current_config()
        if cfg.roles:  # saving needs a role; an empty selection only shows the hint
            self._save(cfg)

    def _save(self, cfg: SyncConfig) -> bool:
        try:
            save_config(self.services.ctx, cfg)
        except Exception as exc:  # UsageError/StoreError: one line, the form keeps its state
            self.services.signals.status_message.emit(str(exc))
            return False
        self.config = cfg
        self._update_schedule()
        self.config_saved.emit()
        return True

    def _update_rule(self) -> None:
        roles = self.current_roles()
        if not roles:
            self.rule.setText("<b>Choose at least one group</b> (Agents, Admins or a custom role).")
            return
        try:
            text = describe_scope(SyncConfig(roles=roles), self._role_names)
        except Exception:
            text = ", ".join(roles)
        self.rule.setText(f"Imports {text}.")

    def _update_schedule(self) -> None:
        cfg = self.config
        self.enable_btn.setText("Disable User Sync" if cfg.enabled else "Enable User Sync")
        if not cfg.enabled:
            self.schedule_label.setText("User sync is off. Sync now and Preview still work.")
            return
        try:
            from evalsync_gui.core.sync.config import next_due

            when = next_due(self.services.ctx)
        except Exception:
            when = None
        at = when.astimezone().strftime("%a %H:%M") if when else "soon"
        self.schedule_label.setText(f"On: every {cfg.interval_hours:g} hours; next sync {at}. "
                                    "New users arrive as Pending.")

    # -- actions -------------------------------------------------------------------------
    def toggle_enabled(self) -> None:
        """Enable (first sync starts at once) or disable the schedule."""
        cfg = self.current_config()
        cfg.enabled = not self.config.enabled
        if cfg.enabled and not cfg.roles:
            self.services.signals.status_message.emit("Choose at least one group of users to import before enabling.")
            self._update_rule()
            return
        if self._save(cfg) and cfg.enabled:
            self.controller.check_schedule()

    def sync_now(self) -> None:
        self.controller.sync_now(trigger="button")

    def preview(self) -> None:
        self.controller.sync_now(trigger="button", dry_run=True)

    def load_lists(self) -> None:
        """Fetch custom roles and user fields from Zendesk in the background."""
        if not self._lists.is_running():
            self.reload_btn.setEnabled(False)
            self._lists.start(load_zendesk_lists, self.services.ctx)

    def _show_lists(self, lists: dict) -> None:
        self.reload_btn.setEnabled(True)
        self.no_custom_roles.setVisible(lists.get("custom_roles_available") is False)
        current = self.identifier.currentData()
        self._filling = True
        for f in lists.get("user_fields", []):
            key = f"user_fields.{f.get('key')}"
            if self.identifier.findData(key) < 0:
                self.identifier.addItem(f"Custom field: {f.get('title') or f.get('key')}", key)
        self._set_identifier(current or "default")
        self._filling = False
        self._fill_roles(lists.get("custom_roles", []))
        self._update_rule()

    def _lists_failed(self, message: str) -> None:
        self.reload_btn.setEnabled(True)
        self.services.signals.status_message.emit(message)

    def _on_running(self, running: bool) -> None:
        self.sync_btn.setEnabled(not running)
        self.preview_btn.setEnabled(not running)
        self.cancel_btn.setEnabled(running)
        if running:
            self.progress.setRange(0, 0)  # busy: the total is unknown until the last page
            self.live.setText("Starting…")
        else:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.live.setText("Idle")
            self._update_schedule()

    def _on_progress(self, p: Any) -> None:
        self.live.setText(progress_text(p))

    def shutdown(self) -> None:
        self._lists.shutdown(300)
