"""Parts 1 to 3 of the User sync tab: identifier, roles to import, schedule; plus sync controls.

The identifier choices and custom roles come live from Zendesk (``GET /api/v2/user_fields``,
``GET /api/v2/custom_roles``) on a worker thread; the saved choices are kept even while the
lists are loading or the connection is down.

Parts 1 to 3 scroll in their own area while the Sync box stays pinned under them with its
buttons at the bottom edge, so Sync now and Preview never move when the scope summary or
the result text changes length, and the result is never scrolled out of a small window.
Unticking a group first counts (on a worker) who would leave the scope and asks.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QFrame, QGroupBox, QHBoxLayout, QLabel,
                               QListWidget, QListWidgetItem, QProgressBar, QPushButton, QScrollArea, QVBoxLayout,
                               QWidget)

from evalsync_gui.core.errors import UsageError
from evalsync_gui.core.sync.config import SyncConfig, describe_scope, load_config, save_config
from evalsync_gui.gui import theme
from evalsync_gui.gui.confirm import confirm
from evalsync_gui.gui.formats import format_datetime
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


def scope_change_job(task: Task, ctx, old_roles: list[str], new_roles: list[str], limit: str):
    """Worker body: how many imported users the new selection drops, and what the guard would do."""
    from evalsync_gui.core.sync import scope_change

    return scope_change.preview(ctx.db, old_roles, new_roles, limit)


def scope_question(dropped: list[str], change: Any) -> tuple[str, str]:
    """(headline, details) asked before a narrower selection is saved."""
    from evalsync_gui.core.sync.role_kinds import KINDS

    groups = " and ".join(dropped) or "these groups"
    kinds = [f"{n:,} {KINDS[k].label.lower()}" if n is not None else f"the {KINDS[k].label.lower()} (not counted yet)"
             for k, n in change.kinds_leaving]
    if change.leaving or not kinds:
        head = f"{change.leaving:,} imported users would leave the scope if you untick {groups}."
    else:
        head = f"Unticking {groups} takes {' and '.join(kinds)} in Zendesk (last count) out of the scope."
    return head, change.consequence()


def count_kinds_job(task: Task, ctx) -> dict:
    """Worker body: read every agent and admin once and count them by kind (stored for next time)."""
    from evalsync_gui.core.auth.session import open_client
    from evalsync_gui.core.sync import role_kinds

    with open_client(ctx) as client:
        return role_kinds.tally_listing(ctx, client, on_page=lambda n: task.report(f"Counting team members: {n:,} read…"))


def kind_label(key: str, counts: dict[str, Any]) -> str:
    """A scope choice for a kind of team member: its name, how many (last count) and its seat."""
    from evalsync_gui.core.sync.role_kinds import KINDS

    kind = KINDS[key]
    n = counts.get(key)
    seat = "paid seat" if kind.paid_seat else "no paid seat"
    return f"{kind.label} ({'not counted' if n is None else format(n, ',')}) · {seat}"


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
        self._filling = False
        self._lists = TaskController(self, name="users.zendesk-lists")
        self._lists.finished.connect(self._show_lists)
        self._lists.failed.connect(self._lists_failed)
        self._counting = TaskController(self, name="users.count-kinds")
        self._counting.progress.connect(lambda text: self.services.signals.status_message.emit(str(text)))
        self._counting.finished.connect(self._show_counts)
        self._counting.failed.connect(self._count_failed)
        self._scope_check = TaskController(self, name="users.scope-change")
        self._scope_check.finished.connect(self._ask_scope_change)
        self._scope_check.failed.connect(self._scope_check_failed)
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
        parts = QWidget()
        column = QVBoxLayout(parts)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self._identifier_box())
        column.addWidget(self._scope_box())
        column.addWidget(self._schedule_box())
        column.addStretch(1)
        self.parts_scroll = QScrollArea()
        self.parts_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.parts_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.parts_scroll.setWidgetResizable(True)
        self.parts_scroll.setWidget(parts)
        outer.addWidget(self.parts_scroll, 1)
        outer.addWidget(self._run_box())

    def _identifier_box(self) -> QGroupBox:
        box = QGroupBox("1. Primary identifier")
        column = QVBoxLayout(box)
        self.identifier = QComboBox()
        self.identifier.setAccessibleName("Primary identifier")
        self.identifier.addItem("Default: Zendesk user ID, then e-mail", "default")
        self.identifier.addItem("External ID", "external_id")
        self.identifier.currentIndexChanged.connect(self._changed)
        column.addWidget(self.identifier)
        column.addWidget(self._muted("Leave on Default if you match users by Zendesk ID or e-mail address."))
        return box

    def _scope_box(self) -> QGroupBox:
        box = QGroupBox("2. Which users to import")
        column = QVBoxLayout(box)
        self.roles = QListWidget()
        self.roles.setAccessibleName("Which users to import")
        self.roles.setMaximumHeight(170)
        self.roles.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.roles.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.roles.itemChanged.connect(self._changed)
        column.addWidget(self.roles)
        self.rule = QLabel()
        self.rule.setWordWrap(True)
        column.addWidget(self.rule)
        self.no_custom_roles = QLabel("This Zendesk plan has no custom roles (Enterprise only): agents and admins "
                                      "sync as usual.")
        self.no_custom_roles.setWordWrap(True)
        self.no_custom_roles.setVisible(False)
        column.addWidget(self.no_custom_roles)
        row = QHBoxLayout()
        self.reload_btn = QPushButton("Reload roles and fields")
        self.reload_btn.setToolTip("Read the custom roles and user fields from Zendesk again")
        self.reload_btn.clicked.connect(self.load_lists)
        self.count_btn = QPushButton("Count")
        self.count_btn.setToolTip("Count the agents, admins, light agents, contributors and chat-only agents in "
                                  "Zendesk now (reads every agent and admin once; same as `evalsync roles --count`)")
        self.count_btn.clicked.connect(self.count_kinds)
        row.addWidget(self.reload_btn)
        row.addWidget(self.count_btn)
        row.addStretch(1)
        column.addLayout(row)
        return box

    def _schedule_box(self) -> QGroupBox:
        box = QGroupBox("3. Enable User Sync")
        form = QFormLayout(box)
        self.interval = QDoubleSpinBox()
        self.interval.setAccessibleName("Sync every (hours)")
        self.interval.setRange(0.25, 720)
        self.interval.setDecimals(2)
        self.interval.setSuffix(" hours")
        self.interval.valueChanged.connect(self._changed)
        form.addRow("Sync every", self.interval)
        self.enable_btn = QPushButton("Enable User Sync")
        self.enable_btn.clicked.connect(self.toggle_enabled)
        self.schedule_label = QLabel()
        self.schedule_label.setWordWrap(True)
        form.addRow(self.enable_btn)
        form.addRow(self.schedule_label)
        return box

    def _run_box(self) -> QGroupBox:
        """Progress and result text on top, the buttons last: texts that grow push upwards, not the buttons."""
        box = QGroupBox("Sync")
        column = QVBoxLayout(box)
        self.live = QLabel("Idle")
        self.live.setWordWrap(True)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextFormat(Qt.TextFormat.PlainText)  # may quote a Zendesk error
        # Room for the usual texts (a wait note, a result with held counts), so the box keeps its size.
        lines = self.fontMetrics().lineSpacing()
        self.live.setMinimumHeight(2 * lines)
        self.result_label.setMinimumHeight(3 * lines)
        for label in (self.live, self.result_label):
            label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        for w in (self.live, self.result_label, self.progress):
            column.addWidget(w)
        column.addLayout(self._run_buttons())
        return box

    def _run_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
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
            row.addWidget(b)
        return row

    @staticmethod
    def _muted(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setStyleSheet(theme.colour_css("muted"))
        return label

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
        from evalsync_gui.core.sync.role_kinds import KINDS

        for key, label in self._role_entries(custom_roles, chosen):
            item = QListWidgetItem(label)
            item.setData(ROLE_KEY, key)
            if key in KINDS:
                item.setToolTip(f"{KINDS[key].label}: {KINDS[key].seat_note}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if key in chosen else Qt.CheckState.Unchecked)
            self.roles.addItem(item)
        self._filling = False

    def _role_entries(self, custom_roles: list[dict], chosen: set[str]) -> list[tuple[str, str]]:
        """(key, label) of every choice: Agents, Admins, the custom roles, and saved ones not loaded yet."""
        from evalsync_gui.core.sync.role_kinds import OPTIONAL_KINDS, last_counts

        counts = (last_counts(self.services.ctx) or {}).get("counts") or {}
        entries = [(key, kind_label(key, counts)) for key in ("agent", "admin", *OPTIONAL_KINDS)]
        custom_roles = choosable_roles(custom_roles)
        self._role_names = {int(r["id"]): r.get("name", str(r["id"])) for r in custom_roles if "id" in r}
        for r in custom_roles:
            count = r.get("team_member_count")
            label = f"Custom role: {r.get('name')}" + (f" ({count:,} members)" if count is not None else "")
            entries.append((f"custom:{r['id']}", label))
        known = {k for k, _ in entries}
        return entries + [(k, f"Custom role {k[7:]} (not loaded)") for k in sorted(chosen - known)]

    def _set_checked(self, roles: list[str]) -> None:
        """Tick exactly ``roles`` without saving (a declined scope change goes back to the saved one)."""
        self._filling = True
        for i in range(self.roles.count()):
            item = self.roles.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(ROLE_KEY) in roles else Qt.CheckState.Unchecked)
        self._filling = False
        self._update_rule()

    def current_roles(self) -> list[str]:
        return [self.roles.item(i).data(ROLE_KEY) for i in range(self.roles.count())
                if self.roles.item(i).checkState() == Qt.CheckState.Checked]

    def _role_label(self, key: str) -> str:
        """The short name of a choice, as a question names it ("Admins", "custom role Tier 1")."""
        from evalsync_gui.core.sync.role_kinds import KINDS

        if key in KINDS:
            return KINDS[key].label
        if key.startswith("custom:") and key[7:].isdigit():
            return f"custom role {self._role_names.get(int(key[7:]), key[7:])}"
        return key

    def current_config(self) -> SyncConfig:
        return SyncConfig(roles=self.current_roles(), identifier=self.identifier.currentData() or "default",
                          interval_hours=self.interval.value(), deactivation_limit=self.config.deactivation_limit,
                          enabled=self.config.enabled)

    def _changed(self, *_: Any) -> None:
        if self._filling:
            return
        self._update_rule()
        cfg = self.current_config()
        if not cfg.roles:  # saving needs a role; an empty selection only shows the hint
            return
        if self._scope_check.is_running():
            return  # its answer saves the form as it is then
        dropped = [r for r in self.config.roles if r not in cfg.roles]
        if dropped:  # count who would leave first; the answer decides whether to save
            self.roles.setEnabled(False)
            self._scope_check.start(scope_change_job, self.services.ctx, list(self.config.roles), cfg.roles,
                                    self.config.deactivation_limit)
            return
        self._save(cfg)

    def _ask_scope_change(self, change: Any) -> None:
        self.roles.setEnabled(True)
        cfg = self.current_config()
        dropped = [self._role_label(r) for r in self.config.roles if r not in cfg.roles]
        if change.leaving or (change.kinds_leaving and change.synced):  # nothing imported yet: nothing to say
            headline, details = scope_question(dropped, change)
            if not confirm(self, "Change which users to import", headline, details, "Untick and save"):
                self._set_checked(self.config.roles)
                return
        if cfg.roles:
            self._save(cfg)

    def _scope_check_failed(self, message: str) -> None:
        self.roles.setEnabled(True)
        self._set_checked(self.config.roles)  # never narrow the scope without having said what it does
        self.services.signals.status_message.emit(message)

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
            self.rule.setText("<b>Choose at least one group</b> (Agents, Admins, another kind or a custom role).")
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
        at = format_datetime(when) if when else "soon"
        self.schedule_label.setText(f"On: every {cfg.interval_hours:g} hours; next sync {at}. "
                                    "New users arrive as Pending.")

    # -- actions -------------------------------------------------------------------------
    def toggle_enabled(self) -> None:
        """Enable (the first sync starts at once, labelled as started by Enable) or disable the schedule."""
        cfg = self.current_config()
        cfg.enabled = not self.config.enabled
        if cfg.enabled and not cfg.roles:
            self.services.signals.status_message.emit("Choose at least one group of users to import before enabling.")
            self._update_rule()
            return
        if self._save(cfg) and cfg.enabled and self._due():
            self.controller.sync_now(trigger="enable")

    def _due(self) -> bool:
        from evalsync_gui.gui.sync_controller import due_now

        try:
            return due_now(self.services.ctx)
        except Exception as exc:  # a damaged setting: the schedule timer reports it; enabling still saved
            self.services.signals.status_message.emit(f"Enabled; the first sync waits for the schedule ({exc}).")
            return False

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

    def count_kinds(self) -> None:
        """Count each kind of team member in Zendesk in the background; the choices show the numbers."""
        if not self._counting.is_running():
            self.count_btn.setEnabled(False)
            self._counting.start(count_kinds_job, self.services.ctx)

    def _show_counts(self, result: dict) -> None:
        self.count_btn.setEnabled(True)
        self._relabel_kinds(result.get("counts") or {})
        self.services.signals.status_message.emit(f"Counted: {result.get('paid_seats', 0):,} team members take a "
                                                  "paid agent seat.")

    def _relabel_kinds(self, counts: dict[str, Any]) -> None:
        from evalsync_gui.core.sync.role_kinds import KINDS

        self._filling = True  # a new label is not a new choice
        for i in range(self.roles.count()):
            item = self.roles.item(i)
            if item.data(ROLE_KEY) in KINDS:
                item.setText(kind_label(item.data(ROLE_KEY), counts))
        self._filling = False

    def _count_failed(self, message: str) -> None:
        self.count_btn.setEnabled(True)
        self.services.signals.status_message.emit(message)

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
        self._counting.shutdown(300)
        self._lists.shutdown(300)
        self._scope_check.shutdown(300)
