"""Support endpoints: users (cursor and offset lists, show, show_many, count, me, writes),
user fields, custom roles and both incremental user exports."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any

from evalsync_gui.sim.clock import iso
from evalsync_gui.sim.cursors import (BadCursor, absolute_link, decode_export_cursor, decode_list_cursor,
                                      encode_export_cursor, encode_list_cursor, replace_params)
from evalsync_gui.sim.store import ROLES, dumps
from evalsync_gui.sim.wire import (FORBIDDEN, NOT_FOUND, HttpError, Request, Response, error, int_param,
                                   json_response, raw_json)

if TYPE_CHECKING:
    from evalsync_gui.sim.server import Simulator

OFFSET_LIMIT = 10_000
MAX_PAGE = 100
MAX_EXPORT_PAGE = 1000
PAGE_KEYS = {"page[size]", "page[after]", "page[before]"}
LIST_PARAMS = PAGE_KEYS | {"role", "role[]", "permission_set", "external_id", "include", "sort", "page", "per_page"}


def need_agent(req: Request) -> None:
    if not (req.principal and req.principal.is_agent):
        raise HttpError(json_response(FORBIDDEN, 403))


def need_admin(req: Request) -> None:
    if not (req.principal and req.principal.is_admin):
        raise HttpError(json_response(FORBIDDEN, 403))


def _user_or_404(sim: Simulator, uid: str) -> dict:
    user = sim.store.users.get(int(uid))
    if user is None:
        raise HttpError(json_response(NOT_FOUND, 404))
    return user


def _filters(req: Request) -> tuple[list[str], int | None]:
    roles = req.all("role") + req.all("role[]")
    return roles, int_param(req, "permission_set")


# ----- lists ------------------------------------------------------------------------------
def list_users(sim: Simulator, req: Request) -> Response:
    need_agent(req)
    roles, perm = _filters(req)
    with sim.store.lock:
        lists = sim.store.filtered_lists(roles, perm)
        ext = req.param("external_id")
        if ext is not None:
            lists = [[uid for uid in lists[0] if (sim.store.users[uid]["external_id"] or "").lower() == ext.lower()]] \
                if len(lists) == 1 else [[]]
        if req.param("page[size]") is not None or req.param("page[after]") or req.param("page[before]"):
            resp = _cursor_page(sim, req, lists)
        else:
            resp = _offset_page(sim, req, lists)
    unknown = sorted({k for k, _ in req.params} - LIST_PARAMS)
    if unknown:  # ignored, as Zendesk does, with a warning header
        resp.headers.append(("x-zendesk-api-warn", f"Unknown parameter(s) ignored: {', '.join(unknown)}"))
    return resp


def _cursor_page(sim: Simulator, req: Request, lists: list[list[int]]) -> Response:
    size = int_param(req, "page[size]", MAX_PAGE)
    if size is None or not 1 <= size <= MAX_PAGE:
        raise HttpError(error(400, "InvalidPaginationParameter", f"page[size] must be between 1 and {MAX_PAGE}"))
    try:
        before = req.param("page[before]")
        if before:
            ids = sim.store.before(lists, decode_list_cursor(before), size)
        else:
            after = req.param("page[after]")
            ids = sim.store.after(lists, decode_list_cursor(after) if after else None, size)
    except BadCursor:
        raise HttpError(error(400, "InvalidPaginationParameter", "page[after] or page[before] is not a valid cursor"))
    frags = b",".join(sim.store.fragment(uid) for uid in ids)
    if not ids:
        meta = {"has_more": False, "after_cursor": None, "before_cursor": None}
        links = {"prev": None, "next": None}
    else:
        after_c, before_c = encode_list_cursor(ids[-1]), encode_list_cursor(ids[0])
        keep = replace_params(req.params, PAGE_KEYS, [("page[size]", str(size))])
        # Recorded: a full page says has_more even when nothing follows (a trailing empty page),
        # and a non-empty last page still carries links.next.
        meta = {"has_more": len(ids) == size, "after_cursor": after_c, "before_cursor": before_c}
        links = {"prev": absolute_link(sim.base_url, req.path, keep + [("page[before]", before_c)]),
                 "next": absolute_link(sim.base_url, req.path, keep + [("page[after]", after_c)])}
    return raw_json(b'{"users":[' + frags + b'],"meta":' + dumps(meta) + b',"links":' + dumps(links) + b"}")


def _offset_page(sim: Simulator, req: Request, lists: list[list[int]]) -> Response:
    page = int_param(req, "page", 1) or 1
    per_page = min(max(int_param(req, "per_page", MAX_PAGE) or MAX_PAGE, 1), MAX_PAGE)
    offset = (page - 1) * per_page
    if offset >= OFFSET_LIMIT:
        raise HttpError(error(400, "InvalidPaginationParameter",
                              "Offset pagination is limited to the first 10,000 records. "
                              "Use cursor pagination (page[size]) to read further."))
    ids = sim.store.after(lists, None, offset + per_page)[offset:]
    total = sim.store.count(lists)

    def link(n: int) -> str:
        return absolute_link(sim.base_url, req.path, replace_params(req.params, {"page"}, [("page", str(n))]))
    next_page = link(page + 1) if offset + per_page < total else None
    prev_page = link(page - 1) if page > 1 else None
    frags = b",".join(sim.store.fragment(uid) for uid in ids)
    tail = {"next_page": next_page, "previous_page": prev_page, "count": total}
    return raw_json(b'{"users":[' + frags + b"]," + dumps(tail)[1:])


# ----- single users ----------------------------------------------------------------------
def show_user(sim: Simulator, req: Request, uid: str) -> Response:
    need_agent(req)
    with sim.store.lock:
        user = _user_or_404(sim, uid)
        resp = raw_json(b'{"user":' + sim.store.fragment(user["id"]) + b"}")
    resp.headers.append(("Cache-Control", "max-age=5, private"))
    return resp


def me(sim: Simulator, req: Request) -> Response:
    p = req.principal
    if p is None or p.user is None:
        return json_response({"user": _anonymous(sim)})
    out: dict[str, Any] = {}
    for key, value in p.user.items():
        out[key] = value
        if key == "verified":
            out["authenticity_token"] = secrets.token_urlsafe(64)[:86]
    return json_response({"user": out})


def _anonymous(sim: Simulator) -> dict:
    """What Zendesk answers to users/me without credentials: an anonymous end user, 200."""
    user = dict.fromkeys(next(iter(sim.store.users.values())).keys())
    user.update(name="Anonymous user", role="end-user", locale="en-US", locale_id=1, time_zone="London",
                iana_time_zone="Europe/London", verified=False, active=True, tags=[], shared=False,
                shared_agent=False, moderator=False, suspended=False, user_fields={})
    return user


def show_many(sim: Simulator, req: Request) -> Response:
    need_agent(req)
    raw = req.param("ids")
    ext = req.param("external_ids")
    include_deleted = req.param("include_deleted") == "true"
    with sim.store.lock:
        users = sim.store.users
        if raw is not None:
            try:
                wanted = {int(x) for x in raw.split(",") if x.strip()}
            except ValueError:
                raise HttpError(error(400, "InvalidValue", "ids must be integers")) from None
        elif ext is not None:
            keys = {x.strip().lower() for x in ext.split(",") if x.strip()}
            wanted = {uid for uid, u in users.items() if (u["external_id"] or "").lower() in keys}
        else:
            raise HttpError(error(400, "InvalidValue", "ids or external_ids is required"))
        if len(wanted) > 100:
            raise HttpError(error(400, "TooManyValues", "Too many values: at most 100"))
        ids = sorted(uid for uid in wanted if uid in users and (include_deleted or users[uid]["active"]))
        frags = b",".join(sim.store.fragment(uid) for uid in ids)
    return raw_json(b'{"users":[' + frags + b'],"next_page":null,"previous_page":null,"count":'
                    + str(len(ids)).encode() + b"}")


_TERM = re.compile(r'(?:(\w+):)?(?:"([^"]*)"|(\S+))')
SEARCH_LIMIT = 10_000


def _search_terms(query: str) -> list[tuple[str, str]]:
    """``email:"a@b.com" role:end-user jane`` -> [("email", "a@b.com"), ("role", "end-user"), ("", "jane")]."""
    return [((m.group(1) or "").lower(), (m.group(2) if m.group(2) is not None else m.group(3)).lower())
            for m in _TERM.finditer(query)]


def _matches(user: dict, terms: list[tuple[str, str]]) -> bool:
    for key, value in terms:
        email, name = (user["email"] or "").lower(), (user["name"] or "").lower()
        if key == "email" and email != value:
            return False
        if key == "role" and user["role"] != value:
            return False
        if key == "name" and value not in name:
            return False
        if key == "" and value not in name and value not in email:
            return False
    return True


def search_users(sim: Simulator, req: Request) -> Response:
    """Users search: active users only (search never shows deleted ones), offset pages."""
    need_agent(req)
    query, ext = req.param("query"), req.param("external_id")
    if not query and not ext:
        raise HttpError(error(400, "InvalidValue", "query or external_id is required"))
    page = int_param(req, "page", 1) or 1
    per_page = min(max(int_param(req, "per_page", MAX_PAGE) or MAX_PAGE, 1), MAX_PAGE)
    with sim.store.lock:
        users = sim.store.users
        if ext:
            found = [uid for uid, u in users.items() if (u["external_id"] or "").lower() == ext.lower()]
        else:
            terms = _search_terms(query or "")
            exact = next((v for k, v in terms if k == "email"), None)
            pool = [sim.store.find_email(exact)] if exact is not None else list(users)
            found = [uid for uid in pool if uid is not None and _matches(users[uid], terms)]
        found = sorted(uid for uid in found if users[uid]["active"])[:SEARCH_LIMIT]
        ids = found[(page - 1) * per_page: page * per_page]
        frags = b",".join(sim.store.fragment(uid) for uid in ids)

    def link(n: int) -> str:
        return absolute_link(sim.base_url, req.path, replace_params(req.params, {"page"}, [("page", str(n))]))
    tail = {"next_page": link(page + 1) if page * per_page < len(found) else None,
            "previous_page": link(page - 1) if page > 1 else None, "count": len(found)}
    return raw_json(b'{"users":[' + frags + b"]," + dumps(tail)[1:])


def count_users(sim: Simulator, req: Request) -> Response:
    need_agent(req)
    roles, perm = _filters(req)
    with sim.store.lock:
        value = sim.store.count(sim.store.filtered_lists(roles, perm))
    return json_response({"count": {"value": value, "refreshed_at": iso(sim.clock.now())}})


# ----- writes ----------------------------------------------------------------------------
def _user_body(req: Request) -> dict:
    try:
        body = req.json()
    except ValueError:
        raise HttpError(error(400, "InvalidJSON", "The request body is not valid JSON")) from None
    user = body.get("user") if isinstance(body, dict) else None
    if not isinstance(user, dict):
        raise HttpError(error(400, "InvalidValue", "Expected a {\"user\": {...}} object"))
    return user


def _invalid(field: str, message: str, code: str = "InvalidValue") -> HttpError:
    return HttpError(json_response({"error": "RecordInvalid", "description": "Record validation errors",
                                    "details": {field: [{"description": message, "error": code}]}}, 422))


def create_user(sim: Simulator, req: Request) -> Response:
    need_admin(req)
    data = _user_body(req)
    name, role = data.get("name"), data.get("role", "end-user")
    if not name:
        raise _invalid("name", "Name: cannot be blank", "BlankValue")
    if role not in ROLES:
        raise _invalid("role", f"Role: {role} is not a valid role")
    try:
        user = sim.store.add(name, data.get("email"), role, data.get("custom_role_id"), data.get("external_id"),
                             data.get("user_fields"))
    except ValueError as exc:
        raise _invalid("email", str(exc), "DuplicateValue") from None
    if data.get("suspended"):
        sim.store.set_suspended(user["id"], True)
    if sim.config.chat_kind == "support" and role != "end-user" and sim.config.new_agents_get_chat:
        sim.set_chat_access(user["id"], True)
    resp = raw_json(b'{"user":' + sim.store.fragment(user["id"]) + b"}", 201)
    resp.headers.append(("Location", f"{sim.base_url}/api/v2/users/{user['id']}.json"))
    return resp


def update_user(sim: Simulator, req: Request, uid: str) -> Response:
    need_admin(req)
    user = _user_or_404(sim, uid)
    data = _user_body(req)
    if user["id"] == sim.store.owner_id and data.get("role") not in (None, "admin"):
        raise HttpError(error(403, "Forbidden", "The account owner must stay an admin"))
    try:
        if "role" in data or "custom_role_id" in data:
            role = data.get("role", user["role"])
            if role not in ROLES:
                raise _invalid("role", f"Role: {role} is not a valid role")
            sim.store.change_role(user["id"], role, data.get("custom_role_id"))
        if "name" in data:
            sim.store.rename(user["id"], data["name"])
        if "suspended" in data:
            sim.store.set_suspended(user["id"], bool(data["suspended"]))
        simple = {k: data[k] for k in ("external_id", "notes", "details", "time_zone", "alias") if k in data}
        if "user_fields" in data:
            simple["user_fields"] = {**user["user_fields"], **data["user_fields"]}
        if simple:
            sim.store.update_fields(user["id"], **simple)
    except ValueError as exc:
        raise _invalid("custom_role_id", str(exc)) from None
    return raw_json(b'{"user":' + sim.store.fragment(user["id"]) + b"}")


def delete_user(sim: Simulator, req: Request, uid: str) -> Response:
    need_admin(req)
    user = _user_or_404(sim, uid)
    if user["id"] == sim.store.owner_id:
        raise HttpError(error(403, "Forbidden", "The account owner cannot be deleted"))
    sim.store.set_active(user["id"], False)
    return raw_json(b'{"user":' + sim.store.fragment(user["id"]) + b"}")


# ----- fields and roles -----------------------------------------------------------------
def user_fields(sim: Simulator, req: Request) -> Response:
    need_agent(req)
    fields = sim.store.user_fields
    return json_response({"user_fields": fields, "next_page": None, "previous_page": None, "count": len(fields)})


def _role_view(sim: Simulator, role: dict) -> dict:
    return {**role, "team_member_count": sim.store.team_member_count(role["id"])}


def _enterprise_only(sim: Simulator) -> None:
    """Custom agent roles exist on Enterprise plans only; Zendesk documents no refusal body, so
    the simulator answers with its generic 403 (docs/ZENDESK.md section 3)."""
    if sim.config.plan != "enterprise":
        raise HttpError(json_response(FORBIDDEN, 403))


def custom_roles(sim: Simulator, req: Request) -> Response:
    need_agent(req)
    _enterprise_only(sim)
    with sim.store.lock:
        roles = [_role_view(sim, r) for r in sim.store.custom_roles]
    return json_response({"custom_roles": roles, "next_page": None, "previous_page": None, "count": len(roles)})


def custom_role(sim: Simulator, req: Request, rid: str) -> Response:
    need_agent(req)
    _enterprise_only(sim)
    for r in sim.store.custom_roles:
        if r["id"] == int(rid):
            return json_response({"custom_role": _role_view(sim, r)})
    raise HttpError(json_response(NOT_FOUND, 404))


# ----- incremental exports ---------------------------------------------------------------
def _export_size(req: Request) -> int:
    size = int_param(req, "per_page", MAX_EXPORT_PAGE) or MAX_EXPORT_PAGE
    return min(max(size, 1), MAX_EXPORT_PAGE)


def _start_time(sim: Simulator, req: Request) -> int:
    start = int_param(req, "start_time")
    if start is None:
        raise HttpError(error(400, "InvalidValue", "start_time is required"))
    if start > sim.clock.now() - 60:
        raise HttpError(error(400, "InvalidValue", "Too recent start_time. Use a start_time older than a minute"))
    return start


def export_cursor(sim: Simulator, req: Request) -> Response:
    need_admin(req)
    size = _export_size(req)
    cursor = req.param("cursor")
    if cursor:
        try:
            key = decode_export_cursor(cursor)
        except BadCursor:
            raise HttpError(error(400, "InvalidValue", "cursor is not valid")) from None
    else:
        key = (_start_time(sim, req), 0)
    cutoff = int(sim.clock.now()) - 60  # the most recent minute is never exported
    with sim.store.lock:
        rows = sim.store.export_after(key, cutoff, size + 1)
        more = len(rows) > size
        rows = rows[:size]
        frags = b",".join(sim.store.export_fragment(uid) for _, uid in rows)
    last = rows[-1] if rows else key
    after = cursor if (cursor and not rows) else encode_export_cursor(*last)
    keep = replace_params(req.params, {"start_time", "cursor"}, [("cursor", after)])
    tail = {"after_url": absolute_link(sim.base_url, req.path, keep), "before_url": None,
            "after_cursor": after, "before_cursor": None, "end_of_stream": not more}
    return raw_json(b'{"users":[' + frags + b"]," + dumps(tail)[1:])


def export_time(sim: Simulator, req: Request) -> Response:
    need_admin(req)
    size = _export_size(req)
    start = _start_time(sim, req)
    cutoff = int(sim.clock.now()) - 60
    with sim.store.lock:
        rows = sim.store.export_after((start - 1, 1 << 62), cutoff, size)
        if rows:
            # Users of the page's last second all stay on this page (end_time = that second + 1).
            rows += sim.store.export_same_second(rows[-1])
            end_time = rows[-1][0] + 1
        else:
            end_time = start
        more = bool(sim.store.export_after((end_time - 1, 1 << 62), cutoff, 1))
        frags = b",".join(sim.store.export_fragment(uid) for _, uid in rows)
    next_page = absolute_link(sim.base_url, req.path,
                              replace_params(req.params, {"start_time"}, [("start_time", str(end_time))]))
    tail = {"next_page": next_page, "count": len(rows), "end_of_stream": not more, "end_time": end_time}
    return raw_json(b'{"users":[' + frags + b"]," + dumps(tail)[1:])
