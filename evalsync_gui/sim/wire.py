"""Request and response values passed between the HTTP handler and the endpoint functions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from evalsync_gui.sim.store import dumps

JSON = "application/json; charset=utf-8"
NOT_FOUND = {"error": "RecordNotFound", "description": "Not found"}
FORBIDDEN = {"error": "Forbidden", "description": "You do not have access to this page. Please contact the "
                                                  "account owner of this help desk for further help."}


@dataclass
class Principal:
    """Who is calling: the user, and for OAuth the token and its scopes."""

    user: dict[str, Any] | None
    method: str  # "api_token" | "oauth" | "anonymous"
    token: Any = None

    @property
    def role(self) -> str:
        return self.user["role"] if self.user else "anonymous"

    @property
    def is_agent(self) -> bool:
        return self.role in ("agent", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass
class Request:
    method: str
    path: str  # as sent, e.g. /api/v2/users.json
    query: str
    headers: Any
    body: bytes = b""
    principal: Principal | None = None

    @property
    def route(self) -> str:
        return self.path[:-5] if self.path.endswith(".json") else self.path

    @property
    def params(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)

    def param(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.params:
            if key == name:
                return value
        return default

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.params if k == name]

    def json(self) -> Any:
        """The JSON body, or a form-encoded body as a dict (OAuth clients send either)."""
        ctype = (self.headers.get("Content-Type") or "").lower()
        if "application/x-www-form-urlencoded" in ctype:
            return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))
        if not self.body:
            return {}
        return json.loads(self.body)


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str | None = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(obj: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, dumps(obj), JSON, list(headers or []))


def raw_json(body: bytes, status: int = 200) -> Response:
    return Response(status, body, JSON)


def error(status: int, err: str, description: str | None = None) -> Response:
    body: dict[str, Any] = {"error": err}
    if description is not None:
        body["description"] = description
    return json_response(body, status)


class HttpError(Exception):
    """Raised by endpoints to answer with an error body."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def int_param(req: Request, name: str, default: int | None = None) -> int | None:
    value = req.param(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise HttpError(error(400, "InvalidValue", f"{name} must be an integer")) from None
