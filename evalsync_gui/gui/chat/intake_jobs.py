"""Worker-thread jobs of the Sources page: the chat run, Allow/Discard of held creations, and
what the page shows. No widgets here: plain data in and out (see :mod:`evalsync_gui.gui.chat_jobs`)."""

from __future__ import annotations

from datetime import timezone

from evalsync_gui.core.chat import guards, retries, schedule, service, sources
from evalsync_gui.core.context import AppContext
from evalsync_gui.gui.chat_jobs import OpenSupport, _progress


def intake_snapshot(ctx: AppContext) -> dict:
    """Sources, the schedule, the last run and what waits for review (read in the loader thread)."""
    runs = schedule.list_runs(ctx.db, limit=1)
    due = schedule.next_due(ctx.settings)
    return {
        "sources": [s.to_json() for s in sources.list_sources(ctx.db)],
        "schedule": schedule.ScheduleConfig.load(ctx.settings),
        "next_run": due.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if due else None,
        "next_due": due,  # aware datetime (None: the schedule is off) for the page's timer
        "last_run": runs[0] if runs else None,
        "held_runs": guards.held_runs(ctx.db),
    }


def _open(ctx: AppContext, open_support: OpenSupport):
    return lambda: service.open_clients(ctx, open_support)


def run_chat(task, ctx: AppContext, open_support: OpenSupport, trigger: str) -> schedule.RunReport:
    """One chat run (the schedule's, or Run now)."""
    return schedule.run_chat(ctx.db, ctx.settings, ctx.data_dir, _open(ctx, open_support), trigger=trigger,
                             progress=_progress(task), is_cancelled=task.is_cancelled)


def allow_run(task, ctx: AppContext, open_support: OpenSupport, run_id: int) -> schedule.RunReport:
    """Allow a held run's creations and process them now."""
    return schedule.allow_run(ctx.db, ctx.settings, ctx.data_dir, _open(ctx, open_support), run_id, actor="app")


def discard_run(task, ctx: AppContext, run_id: int) -> str:
    n = len(schedule.discard_run(ctx.db, run_id, actor="app"))
    return f"{n} held request{'s' if n != 1 else ''} of run {run_id} discarded (rejected)."


def save_schedule(task, ctx: AppContext, enabled: bool, every: int) -> str:
    cfg = schedule.ScheduleConfig.load(ctx.settings)
    cfg.enabled, cfg.every_minutes = enabled, every
    cfg.save(ctx.settings)
    return f"Chat schedule {'on, every ' + str(every) + ' minutes' if enabled else 'off'}."


def retry_failed(task, ctx: AppContext) -> str:
    """Queue again the requests that failed after every attempt (issue 15.12: only on the admin's word)."""
    n = retries.retry(ctx.db)
    return (f"{n} failed request{'s' if n != 1 else ''} queued again; press Process to send them." if n
            else "No failed request to retry.")


def _where(where: str) -> dict[str, str | None]:
    """A web link is a published sheet, anything else a local file's path."""
    is_link = where.lower().startswith(("https://", "http://"))
    return {"url": where if is_link else None, "path": None if is_link else where}


def peek_source(task, ctx: AppContext, where: str) -> sources.Peek:
    """Read the sheet or file once (columns, first rows, the guess) so the admin can map its columns."""
    return sources.peek(**_where(where))


def add_source(task, ctx: AppContext, name: str, where: str, mapping: dict[str, str] | None = None) -> str:
    """Add a published sheet (a web link) or a local CSV file (a path) with the admin's columns
    (``mapping``, as chosen in the dialog) or, without one, the guessed columns."""
    src, skipped = sources.add_source(ctx.db, name, **_where(where), mapping=mapping, guessed=mapping is None)
    return (f"Source {src.name} added; {skipped} row{'s' if skipped != 1 else ''} already there skipped, new rows "
            "are taken by the next run.")


def remove_sources(task, ctx: AppContext, names: list[str]) -> str:
    for name in names:
        sources.remove_source(ctx.db, name)
    return f"Removed {', '.join(names)}; their requests and the log stay."
