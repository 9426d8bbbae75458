"""Chat Agents API (/api/v2/chat/agents: bare JSON arrays, since_id/limit pagination), per-user
entitlements, the Chat OAuth server and the simulator's Admin Center control.

Only Chat OAuth tokens reach these agent routes (the server refuses Support credentials with
Zendesk's 401 before they get here); writes need the token's ``write`` scope and a writable
account kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote

from evalsync_gui.sim.routes_users import need_admin, need_agent
from evalsync_gui.sim.wire import HttpError, Request, Response, error, int_param, json_response

if TYPE_CHECKING:
    from evalsync_gui.sim.server import Simulator

CHAT_NOT_FOUND = {"error": "Not Found"}
READ_ONLY = ("This Chat account was created in Support: the Chat Agents API is read-only. "
             "Set Chat access in Admin Center (Team members > Roles and access > Chat).")
MAX_LIMIT = 100


def _not_found() -> HttpError:
    return HttpError(json_response(CHAT_NOT_FOUND, 404))


def _writable(sim: Simulator, req: Request) -> None:
    need_admin(req)
    if "write" not in (req.principal.token.scopes if req.principal and req.principal.token else []):
        raise HttpError(json_response({"error": "Forbidden", "description": "The token has no write scope"}, 403))
    if sim.config.chat_kind == "support":
        raise HttpError(json_response({"error": "Forbidden", "description": READ_ONLY}, 403))


def list_agents(sim: Simulator, req: Request) -> Response:
    need_agent(req)
    limit = min(max(int_param(req, "limit", MAX_LIMIT) or MAX_LIMIT, 1), MAX_LIMIT)
    return json_response(sim.chat.page(int_param(req, "since_id"), int_param(req, "max_id"), limit))


def get_agent(sim: Simulator, req: Request, cid: str) -> Response:
    need_agent(req)
    agent = sim.chat_agent(int(cid))
    if agent is None:
        raise _not_found()
    return json_response(agent)


def get_me(sim: Simulator, req: Request) -> Response:
    need_agent(req)
    agent = sim.chat.by_email(req.principal.user["email"] or "")
    if agent is None:
        raise _not_found()
    return json_response(agent)


def by_email(sim: Simulator, req: Request, email: str) -> Response:
    need_agent(req)
    agent = sim.chat.by_email(unquote(email))
    if agent is None:
        raise _not_found()
    return json_response(agent)


def _body(req: Request) -> dict:
    try:
        body = req.json()
    except ValueError:
        raise HttpError(error(400, "Bad Request", "The request body is not valid JSON")) from None
    if not isinstance(body, dict):
        raise HttpError(error(400, "Bad Request", "Expected a JSON object"))
    return body


def create_agent(sim: Simulator, req: Request) -> Response:
    _writable(sim, req)
    body = _body(req)
    missing = [k for k in ("email", "password", "first_name", "last_name") if not body.get(k)]
    if missing:
        raise HttpError(error(400, "Bad Request", f"Missing required fields: {', '.join(missing)}"))
    try:
        agent = sim.chat.create(body)
    except ValueError as exc:
        raise HttpError(error(400, "Bad Request", str(exc))) from None
    return json_response(agent, 201)


def update_agent(sim: Simulator, req: Request, cid: str) -> Response:
    _writable(sim, req)
    body = _body(req)
    if int(cid) not in sim.chat.agents:
        raise _not_found()
    return json_response(sim.chat.update(int(cid), body))


def delete_agent(sim: Simulator, req: Request, cid: str) -> Response:
    _writable(sim, req)
    if int(cid) not in sim.chat.agents:
        raise _not_found()
    sim.chat.delete(int(cid))
    return Response(204, b"", None)


# ----- entitlements (Support API, read-only) ---------------------------------------------------
def entitlements_full(sim: Simulator, req: Request, uid: str) -> Response:
    """GET /api/v2/users/{id}/entitlements/full; a writable-kind account has no Chat entitlement."""
    need_agent(req)
    user = sim.store.users.get(int(uid))
    if user is None or not user["active"]:
        raise HttpError(json_response({"error": "RecordNotFound", "description": "Not found"}, 404))
    if sim.config.chat_kind == "support":
        ent = sim.chat.entitlements(user)
    else:
        staff = user["role"] != "end-user"
        ent = {"explore": {"name": "viewer" if staff else None, "is_active": False},
               "guide": {"name": "viewer", "is_active": False},
               "talk": {"name": "agent" if staff else None, "is_active": False}}
    return json_response({"entitlements": ent})


# ----- the simulator's own control: Admin Center's Chat switch -------------------------------
def admin_center_chat(sim: Simulator, req: Request, uid: str) -> Response:
    """POST /_sim/admin-center/users/{id}/chat {"is_active": bool}: what an admin clicks in Admin Center."""
    body = _body(req)
    try:
        sim.set_chat_access(int(uid), bool(body.get("is_active")))
    except (KeyError, ValueError) as exc:
        raise HttpError(error(400, "Bad Request", str(exc))) from None
    return json_response({"user_id": int(uid), "chat": {"is_active": bool(body.get("is_active"))}})
