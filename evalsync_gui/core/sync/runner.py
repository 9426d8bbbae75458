"""``run_sync``: the one public entry point of the user sync.

One run: take the cross-process lock, mark crashed runs interrupted, choose the mode
(incremental export for admin tokens, else a full listing; a full listing at least once a
day, or when asked, or when a stopped full listing can be resumed), stream pages through
the decision table, commit whole pages with their cursors in groups (see ``batch``: at
most ~0.5 s of pages per transaction, never a page split), and only after a complete read plan
the "absent" deactivations (``absence`` asks Zendesk why each is absent) and let the guard apply
or hold them. Held rows of earlier runs give way to this run's plan (one per person) and expire
when a page shows the user fine. A refused export cursor (400) turns the run into a full listing.

A listing in which some entries had to be dropped (no usable id, see ``users``) is not
complete: nobody is deactivated as absent after it. Custom-role names are refreshed after
the read when a role matters (see ``roles``). Every failure ends the run as ``failed`` with
one line in sync_runs and in the log; an unexpected exception (a bug) is logged with its
traceback and never leaves a run ``running``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from evalsync_gui.core.errors import AuthError, Cancelled, EvalsyncError, UsageError, ZendeskError
from evalsync_gui.core.sync import absence, apply, fetch, guard, roles, runs, state
from evalsync_gui.core.sync.batch import GroupCommit
from evalsync_gui.core.sync.config import SyncConfig, load_config
from evalsync_gui.core.sync.decisions import Deactivate, describe_action, plan_page
from evalsync_gui.core.sync.lock import SyncLock

log = logging.getLogger("evalsync.sync")
FULL_EVERY_SECONDS = 24 * 3600
START_MARGIN_SECONDS = 300  # incremental start before the listing began: covers clock skew
#: HTTP client events that make a run wait, and the words the window shows for them.
WAIT_REASONS = {"rate_limited": "Zendesk's limit", "paced": "Zendesk's limit", "retry": "Zendesk is not answering"}
INTERNAL_ERROR = ("Internal error during sync (see the log); nothing was deactivated. "
                  "Retry, and report it if it repeats.")


@dataclass(frozen=True)
class SyncProgress:
    """What a run is doing. ``phase`` "waiting": paced by a rate limit for ``waiting_seconds``
    (from now), ``wait_reason`` says which one; other phases carry 0 and ""."""

    phase: str
    pages: int
    users: int
    requests: int
    rate_wait: float
    message: str
    waiting_seconds: float = 0.0
    wait_reason: str = ""


@dataclass(frozen=True)
class SyncResult:
    run_id: int | None
    status: str  # 'completed' | 'failed' | 'held' | 'cancelled'
    mode: str
    requests: int
    new: int
    updated: int
    deactivated: int
    held: int
    error: str | None
    dry_run: bool
    planned: list = field(default_factory=list)
    exit_code: int = 0  # what the CLI returns: 0, 3 held, 4 auth, 5 Zendesk/network, 130 cancelled


def run_sync(ctx, *, trigger: str = "cli", dry_run: bool = False, full: bool = False,
             allow_deactivations: bool = False, progress: Callable[[SyncProgress], None] | None = None,
             is_cancelled: Callable[[], bool] | None = None, client=None) -> SyncResult:
    """Sync Zendesk users into the directory; see the module docstring.

    Never raises for Zendesk or network errors (returns status 'failed' with a one-line
    error); raises SyncLocked when another sync runs and UsageError when unconfigured.
    """
    cfg = load_config(ctx)
    if not cfg.roles:
        raise UsageError("User sync is not configured; run `evalsync configure --roles agent,admin` or use the Users tab.")
    cfg.validate()
    with SyncLock(ctx.data_dir):
        runs.mark_interrupted_runs(ctx)
        run = _Run(ctx, cfg, trigger, dry_run, full, allow_deactivations, progress, is_cancelled, client)
        return run.execute()


class _Run:
    """The state of one run; methods are the phases."""

    def __init__(self, ctx, cfg: SyncConfig, trigger, dry_run, full, allow, progress, is_cancelled, client) -> None:
        self.ctx, self.db, self.cfg = ctx, ctx.db, cfg
        self.scope = cfg.scope
        self.trigger, self.dry_run, self.force_full, self.allow = trigger, dry_run, full, allow
        self.progress_cb = progress
        self.is_cancelled = is_cancelled or (lambda: False)
        self.client = client
        self.own_client = client is None
        self.run_id: int | None = None
        self.mode = "full"
        self.pages = self.users = 0
        self.new = self.updated = self.deactivated = self.held = 0
        self.planned: list = []
        self.seen: set[int] = set()  # dry runs only: no seen-marks are written
        self.claimed: set[int] = set()
        self.req0 = getattr(client, "request_count", 0)  # a caller's client may have been used before
        self._unsaved_seen = 0
        self.skipped = 0  # entries dropped for having no usable id
        self._new_role_names: dict[int, str] | None = None
        # Set by the phase named before any use (declared here, not given dummy values):
        self.resume: dict  # _prepare_resume (not in dry runs)
        self._linked: set[int] | None  # _sync (not in dry runs): the linked ids, when known in memory
        self.role_names: dict[int, str]  # _sync
        self._roles_due: bool  # _sync: the cached role names should be read again in this run
        self._ids: apply.IdAllocator  # _group_began: facts that hold while one group transaction lasts
        self._unlinked: apply.UnlinkedRows  # _group_began
        self._any_held: bool  # _group_began
        self._last_page: fetch.Page  # _page: the last page of the open group, for its cursor

    # -- phases ----------------------------------------------------------------------------
    def execute(self) -> SyncResult:
        error: str | None = None
        status: str  # every branch below sets status and exit_code
        exit_code: int
        try:
            if self.client is None:
                self.client = self._open_client()
            elif hasattr(self.client, "on_event") and self.client.on_event is None:  # (never replace a caller's hook)
                self.client.on_event = self._on_http_event
            self.mode = self._choose_mode()
            self.run_id = runs.start_run(self.db, self.trigger, self.mode, self.dry_run)
            self._emit("start", f"{self.mode} sync started")
            status = self._sync()
            exit_code = 3 if status == "held" else 0
        except Cancelled:
            status, error, exit_code = "cancelled", "Cancelled; the next sync resumes where this one stopped.", 130
        except AuthError as exc:
            status, error, exit_code = "failed", str(exc), exc.exit_code
        except ZendeskError as exc:
            status, error, exit_code = "failed", str(exc), 5
        except EvalsyncError as exc:
            status, error, exit_code = "failed", str(exc), exc.exit_code
        except Exception:  # a bug: the run must still end as failed, with nothing deactivated
            log.exception("%s: internal error", self._label())
            status, error, exit_code = "failed", INTERNAL_ERROR, 5
        finally:
            if self.own_client and self.client is not None:
                self.client.close()
        if error:
            # The error text is written for the admin and never holds a token.
            (log.info if status == "cancelled" else log.warning)("%s %s: %s", self._label(), status, error)
        if self.run_id is not None:
            runs.finish_run(self.db, self.run_id, status, self._requests(), error)
        self._emit("done", error or status)
        return SyncResult(self.run_id, status, self.mode, self._requests(), self.new, self.updated,
                          self.deactivated, self.held, error, self.dry_run, self.planned, exit_code)

    def _open_client(self):
        from evalsync_gui.core.auth.session import open_client  # lazy: auth is another package

        return open_client(self.ctx, is_cancelled=self.is_cancelled, on_event=self._on_http_event)

    def _on_http_event(self, event) -> None:
        """The HTTP client is about to wait (rate limit, pacing, a retry): say so, with how long."""
        if event.kind not in WAIT_REASONS or event.wait <= 0:
            return
        self._waiting(event.wait, WAIT_REASONS[event.kind])

    def _choose_mode(self) -> str:
        resume = state.get(self.db, state.RESUME)
        if resume and resume.get("signature") == self.cfg.signature and resume.get("mode") == "full":
            return "full"
        if self.force_full or not self._is_admin():
            return "full"
        inc = state.get(self.db, state.INCREMENTAL)
        last_full = state.get(self.db, state.LAST_FULL_AT)
        if (not inc or inc.get("signature") != self.cfg.signature or last_full is None
                or time.time() - last_full > FULL_EVERY_SECONDS):
            return "full"
        return "incremental"

    def _is_admin(self) -> bool:
        if "sync_is_admin" in self.ctx.extras:  # tests and callers that know already
            return bool(self.ctx.extras["sync_is_admin"])
        try:
            from evalsync_gui.core.auth.session import connection_info

            info = connection_info(self.ctx)
            return info is not None and bool(info.is_admin)
        except Exception:  # no info (not connected yet, module missing): list, don't export
            log.debug("connection info unavailable; using a full listing", exc_info=True)
            return False

    def _sync(self) -> str:
        if not self.dry_run:
            self._prepare_resume()
            # Before the first import nobody is linked, and only this run (holding the sync
            # lock) links anyone: the ids it has seen are then all the lookups can find.
            self._linked = None if apply.has_linked(self.db.connect()) else set()
        self.role_names = roles.cached_names(self.db)
        self._roles_due = roles.needs_refresh(self.db, full_listing=self.mode == "full")  # (dry runs read no names)
        # Reading ends only at the listing's real end (fetch fails closed on anything else),
        # so the read is complete unless entries had to be skipped: a user we could not read
        # is not absent.
        if self.mode == "full":
            self._full_listing()
        else:
            self._incremental()
        complete = not self.skipped
        if self.skipped:
            log.warning("sync run %s: %d Zendesk users without a usable id were skipped; nobody is deactivated "
                        "as absent this time", self.run_id, self.skipped)
            self._emit("fetch", f"{self.skipped} users from Zendesk were skipped (no usable id)")
        if self.dry_run:
            return self._finish_dry(complete)
        return self._finish(complete)

    # -- reading ---------------------------------------------------------------------------
    def _prepare_resume(self) -> None:
        resume = state.get(self.db, state.RESUME)
        with self.db.transaction() as conn:
            if resume and resume.get("signature") == self.cfg.signature and resume.get("mode") == self.mode:
                apply.adopt(conn, resume["run_id"], self.run_id)
                resume["run_id"] = self.run_id
                self.resume = resume
                self._emit("resume", "resuming the listing where the last sync stopped; the users it read are kept")
            else:
                self.resume = {"run_id": self.run_id, "mode": self.mode, "signature": self.cfg.signature,
                               "cursors": {}, "started": time.time()}
            apply.discard_stale_planned(conn, self.run_id)
            state.put(conn, state.RESUME, self.resume)

    def _full_listing(self) -> None:
        cursors = {} if self.dry_run else self.resume["cursors"]
        for key, params in self.scope.listings():
            cur = cursors.get(key) or {}
            if cur.get("done"):
                continue
            pages = fetch.iter_listing(self.client, key, params, start_url=cur.get("next"))
            self._read(pages, mark_seen=True)

    def _incremental(self) -> None:
        inc = state.get(self.db, state.INCREMENTAL) or {}
        pages = fetch.iter_incremental(self.client, start_url=inc.get("after_url"), start_time=inc.get("start_time"))
        # Paced at the export's own limit, so a catch-up of any size finishes in this run.
        extras = self.ctx.extras
        pacer = fetch.incremental_pacer(on_wait=self._waiting, is_cancelled=self.is_cancelled,
                                        clock=extras.get("pace_clock", time.monotonic),
                                        sleep=extras.get("pace_sleep", time.sleep))
        paced = hasattr(self.client, "add_pacer")
        if paced:
            self.client.add_pacer(pacer)
        try:
            self._read(pages)  # no seen-marks: an export is never a complete listing
        except ZendeskError as exc:
            if exc.status != 400 or self.dry_run:
                raise
            # Zendesk refused the export cursor (expired, or another account state): a full
            # listing reads everything again and stores a fresh start for the export.
            log.warning("sync run %s: the export cursor was refused (%s); switching to a full listing", self.run_id, exc)
            self._restart_as_full()
        finally:
            if paced:
                self.client.remove_pacer(pacer)

    def _restart_as_full(self) -> None:
        self.mode = "full"
        with self.db.transaction() as conn:
            state.delete(conn, state.INCREMENTAL)
            conn.execute("UPDATE sync_runs SET mode = 'full' WHERE id = ?", (self.run_id,))
        self._prepare_resume()
        self._emit("start", "full sync started (the export cursor was refused)")
        self._full_listing()

    def _waiting(self, seconds: float, reason: str) -> None:
        """Report a pacing wait (called on the fetch thread, before it sleeps)."""
        self._emit("waiting", reason, waiting_seconds=seconds, wait_reason=reason)

    def _read(self, pages, *, mark_seen: bool = False) -> None:
        """Stream pages into the database; non-dry runs commit them in groups (see batch)."""
        if self.dry_run:
            for page in fetch.prefetched(pages):
                self._page(page, mark_seen=mark_seen)
            return
        pages = self._with_role_names(pages)
        with GroupCommit(self.db, before_commit=self._save_progress, on_begin=self._group_began) as group:
            for page in fetch.prefetched(pages, wait_budget=group.wait_budget, on_idle=group.commit):
                self._page(page, mark_seen=mark_seen, group=group)

    def _page(self, page: fetch.Page, *, mark_seen: bool, group: GroupCommit | None = None) -> None:
        """Plan one page (dry runs) or apply it inside ``group``'s transaction."""
        if self.is_cancelled():
            raise Cancelled()
        users = page.users
        self.skipped += page.skipped
        if self.dry_run:
            if mark_seen:  # no seen-marks are written: a user listed twice is counted once
                users = [u for u in users if u.id not in self.seen]
            lookup = apply.lookup_page(self.db.connect(), users, self.scope, self.cfg.identifier)
            actions, remotes = plan_page(users, lookup, self.scope, self.cfg.identifier, self.claimed)
            self.seen.update(r.zendesk_id for r in remotes)
            self._count_dry(actions)
        else:
            with group.page() as conn:  # not a dry run: _read passes its open group
                lookup = apply.lookup_page(conn, users, self.scope, self.cfg.identifier, unlinked=self._unlinked,
                                           linked=self._linked)
                actions, remotes = plan_page(users, lookup, self.scope, self.cfg.identifier, self.claimed)
                if self._linked is not None:
                    self._linked.update(r.zendesk_id for r in remotes)
                counts = apply.apply_page(conn, self.run_id, actions, lookup, [r.zendesk_id for r in remotes],
                                          runs.now_iso(), identifier_mode=self.cfg.identifier, mark_seen=mark_seen,
                                          ids=self._ids, role_names=self.role_names, expire_held=self._any_held)
                self.new += counts.new
                self.updated += counts.updated
                self._last_page = page
                self._unsaved_seen += len(users)
        self.pages += 1
        self.users += len(users)
        self._emit("fetch", f"{self.users} users read in {self.pages} pages")

    def _group_began(self, conn) -> None:
        """Facts that hold for a whole group: it holds the write lock, and this run only ever
        adds linked rows. Read again for every group, whichever listing it belongs to (another
        window may add a row between two groups)."""
        self._ids = apply.IdAllocator(conn)
        self._unlinked = apply.UnlinkedRows(conn, self.cfg.identifier)
        self._any_held = apply.has_held(conn)

    def _save_progress(self, conn) -> None:
        """Once per group, before its COMMIT: the cursor after its last page, and the counters.

        GroupCommit calls it only for a group that applied a page, so ``_last_page`` is that
        group's last page."""
        self._save_cursor(conn, self._last_page)
        runs.update_counts(conn, self.run_id, self.new, self.updated, self._unsaved_seen, self._requests())
        self._unsaved_seen = 0

    def _save_cursor(self, conn, page: fetch.Page) -> None:
        if self.mode == "incremental":
            # (An export runs only while the stored cursor has this configuration's signature.)
            inc = state.get(conn, state.INCREMENTAL) or {}
            inc.update(after_url=page.next_url)
            state.put(conn, state.INCREMENTAL, inc)
        else:
            self.resume["cursors"][page.key] = {"next": page.next_url, "done": page.done}
            state.put(conn, state.RESUME, self.resume)

    def _count_dry(self, actions) -> None:
        for a in actions:
            self.planned.append(describe_action(a))
            if a.kind == "create":
                self.new += 1
            elif a.kind == "deactivate":
                pass
            elif a.recorded:
                self.updated += 1

    def _with_role_names(self, pages):
        """Pass pages through; before the first one where a custom role matters, read the names.

        This runs on the fetch thread, so the one request for the names never waits inside
        a write transaction, and the names arrive before the page that needs them.
        """
        for page in pages:
            if self._roles_due and (self.scope.custom_ids or any(u.custom_role_id is not None for u in page.users)):
                self._roles_due = False
                names = roles.fetch_names(self.client)
                if names is not None:
                    self._new_role_names = names
                    self.role_names = {**self.role_names, **names}
            yield page

    # -- finishing -------------------------------------------------------------------------
    def _finish(self, complete: bool) -> str:
        now = runs.now_iso()
        absent = []
        if complete and self.mode == "full":
            # Outside the write transaction: looking the absent users up costs requests.
            absent = absence.reasons(self.client, apply.absent_users(self.db.connect(), self.run_id), self.scope)
        with self.db.transaction() as conn:
            apply.plan_absent(conn, self.run_id, now, absent)
            apply.supersede_held(conn, self.run_id)
            planned = apply.planned_count(conn, self.run_id)
            synced = apply.synced_count(conn)
            # (The guard never holds 0 deactivations, so nothing planned completes.)
            if not self.allow and guard.exceeds(self.cfg.deactivation_limit, planned, synced):
                self.held = apply.hold_planned(conn, self.run_id)
            else:
                self.deactivated = apply.apply_planned(conn, self.run_id, now)
            apply.refresh_held_runs(conn)  # this run is still 'running', with nothing held yet
            if self.mode == "full":
                started = self.resume["started"]
                state.put(conn, state.LAST_FULL_AT, time.time())
                inc = state.get(conn, state.INCREMENTAL)
                if not inc or inc.get("signature") != self.cfg.signature:
                    state.put(conn, state.INCREMENTAL, {"after_url": None, "signature": self.cfg.signature,
                                                        "start_time": self._incremental_start(started)})
            state.delete(conn, state.RESUME)
            if self._new_role_names is not None:
                # A first import wrote every custom-role user after the names arrived.
                roles.store_names(conn, self._new_role_names, fill=self._linked is None)
            runs.set_outcome(conn, self.run_id, self.new, self.updated, self.deactivated, self.held)
        self._emit("done", f"{self.new} new, {self.updated} updated, {self.deactivated} deactivated, {self.held} held")
        return "held" if self.held else "completed"

    @staticmethod
    def _incremental_start(started: float) -> int:
        """The first export read begins a little before this listing began (clock skew)."""
        return max(int(started) - START_MARGIN_SECONDS, 0)

    def _finish_dry(self, complete: bool) -> str:
        conn = self.db.connect()
        deacts = [p for p in self.planned if p["action"] == "deactivate"]
        if complete and self.mode == "full":
            absent = apply.absent_rows(conn, self.seen)
            self.planned += [describe_action(a) for a in absent]
            deacts += absent
        n = len(deacts)
        if not self.allow and guard.exceeds(self.cfg.deactivation_limit, n, apply.synced_count(conn)):
            self.held = n
        else:
            self.deactivated = n
        with self.db.transaction() as wconn:
            runs.set_outcome(wconn, self.run_id, self.new, self.updated, self.deactivated, self.held)
        return "held" if self.held else "completed"

    # -- helpers ---------------------------------------------------------------------------
    def _label(self) -> str:
        """"sync run 7", or "sync (not started)" when it failed before a run was recorded."""
        return f"sync run {self.run_id}" if self.run_id is not None else "sync (not started)"

    def _requests(self) -> int:
        return getattr(self.client, "request_count", 0) - self.req0  # no client yet: 0 - 0

    def _emit(self, phase: str, message: str, *, waiting_seconds: float = 0.0, wait_reason: str = "") -> None:
        if self.progress_cb is None:
            return
        wait = float(getattr(self.client, "rate_limit_wait_total", 0.0))
        self.progress_cb(SyncProgress(phase, self.pages, self.users, self._requests(), wait, message,
                                      waiting_seconds, wait_reason))
