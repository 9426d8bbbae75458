"""Seeding a realistic organisation: staff with roles, customers, suspended and deleted
people, chat agents. Deterministic for a given seed; about a second per 100,000 users."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from evalsync_gui.sim.clock import iso
from evalsync_gui.sim.config import SimConfig
from evalsync_gui.sim.names import CUSTOMER_DOMAINS, FIRST_NAMES, LAST_NAMES, LOCALES, TIME_ZONES, ascii_slug

FIRST_USER_ID = 3_680_000_000_000  # 13 digits, like real Zendesk user ids
ADMIN_ROLE_ID = 360_000_101_011
LIGHT_AGENT_ROLE_ID = 360_000_101_012
CONTRIBUTOR_ROLE_ID = 360_000_101_013
FIRST_CUSTOM_ROLE_ID = 360_000_205_001
DEFAULT_GROUP_ID = 360_001_234_567
ORGANIZATION_ID = 360_009_876_543
FIRST_CHAT_AGENT_ID = 361_000_100
DAY = 86_400

# The 37 keys of a recorded user object, in the recorded order.
USER_KEYS = (
    "id", "url", "name", "email", "created_at", "updated_at", "time_zone", "iana_time_zone", "phone",
    "shared_phone_number", "photo", "locale_id", "locale", "organization_id", "role", "verified",
    "external_id", "tags", "alias", "active", "shared", "shared_agent", "last_login_at",
    "two_factor_auth_enabled", "signature", "details", "notes", "role_type", "custom_role_id",
    "moderator", "ticket_restriction", "only_private_comments", "restricted_agent", "suspended",
    "default_group_id", "report_csv", "user_fields",
)

_CONFIG_BOOLS = (
    "chat_access", "end_user_profile_access_restricted", "explore_access_enabled", "forum_access_restricted_content",
    "light_agent", "manage_business_rules", "manage_contextual_workspaces", "manage_dynamic_content",
    "manage_extensions_and_channels", "manage_facebook", "manage_organization_fields", "manage_ticket_fields",
    "manage_ticket_forms", "manage_user_fields", "moderate_forums", "organization_editing",
    "organization_notes_editing", "side_conversation_create", "ticket_deletion", "ticket_editing",
    "ticket_merge", "ticket_tag_editing", "twitter_search_access", "view_deleted_tickets", "voice_access",
    "voice_dashboard_access", "assign_tickets_to_any_group", "manage_roles", "manage_groups",
    "manage_group_memberships", "manage_organizations", "manage_skills", "manage_slas",
    "manage_suspended_tickets", "manage_triggers", "manage_automations", "manage_macro_content_suggestions",
    "ticket_bulk_edit_access", "ticket_redaction", "custom_objects_access",
)
_CONFIG_STRINGS = (
    ("end_user_list_access", "full"), ("end_user_profile_access", "edit"), ("explore_access", "edit"),
    ("forum_access", "readonly"), ("group_access", "full"), ("macro_access", "full"),
    ("report_access", "full"), ("ticket_access", "all"), ("ticket_comment_access", "public"),
    ("user_view_access", "full"), ("view_access", "full"),
)


def role_configuration(*, chat_access: bool, admin: bool = False, light: bool = False) -> dict[str, Any]:
    """A custom role's ``configuration`` (bools and access strings, ``chat_access`` among them)."""
    conf: dict[str, Any] = {key: admin for key in _CONFIG_BOOLS}
    conf.update(dict(_CONFIG_STRINGS))
    conf["chat_access"] = chat_access
    conf["light_agent"] = light
    if light:
        conf["ticket_comment_access"] = "none"
        conf["ticket_access"] = "within-groups"
    return conf


def make_custom_roles(names: tuple[str, ...], created: float) -> list[dict[str, Any]]:
    """System roles (Admin, Light agent, Contributor) followed by the account's own roles.

    Chat access: every third custom role (e.g. "QA Lead") has none, the others have it.
    """
    stamp = iso(created)
    roles = [
        {"id": ADMIN_ROLE_ID, "name": "Admin", "description": "Can manage all settings and tickets", "role_type": 4,
         "created_at": stamp, "updated_at": stamp, "configuration": role_configuration(chat_access=True, admin=True),
         "team_member_count": 0},
        {"id": LIGHT_AGENT_ROLE_ID, "name": "Light agent", "description": "Can view tickets and add private comments",
         "role_type": 1, "created_at": stamp, "updated_at": stamp,
         "configuration": role_configuration(chat_access=False, light=True), "team_member_count": 0},
        {"id": CONTRIBUTOR_ROLE_ID, "name": "Contributor", "description": "Can view tickets and add private comments",
         "role_type": 3, "created_at": stamp, "updated_at": stamp,
         "configuration": role_configuration(chat_access=True, light=True), "team_member_count": 0},
    ]
    for i, name in enumerate(names):
        roles.append({"id": FIRST_CUSTOM_ROLE_ID + i, "name": name, "description": f"{name} agents",
                      "role_type": 0, "created_at": stamp, "updated_at": stamp,
                      "configuration": role_configuration(chat_access=i % 3 != 2), "team_member_count": 0})
    return roles


def make_user_fields(base_url: str, created: float) -> list[dict[str, Any]]:
    stamp = iso(created)
    specs = (("text", "employee_id", "Employee ID"), ("dropdown", "qa_team", "QA team"),
             ("checkbox", "evalsync_exempt", "EvalSync exempt"))
    fields = []
    for pos, (kind, key, title) in enumerate(specs):
        fid = 360_020_000_001 + pos
        fields.append({"url": f"{base_url}/api/v2/user_fields/{fid}.json", "id": fid, "type": kind, "key": key,
                       "title": title, "description": "", "raw_title": title, "raw_description": "",
                       "position": pos, "active": True, "system": False, "regexp_for_validation": None,
                       "created_at": stamp, "updated_at": stamp})
    return fields


#: role_type of each system role that is a kind of agent (docs/ZENDESK.md section 3)
_AGENT_ROLE_TYPES = {LIGHT_AGENT_ROLE_ID: 1, CONTRIBUTOR_ROLE_ID: 3}
CHAT_ONLY = "chat-only"  # seeding kind: role agent, role_type 2, chat_only true


def apply_role(user: dict[str, Any], role: str, custom_role_id: int | None, *, chat_only: bool = False) -> None:
    """Set the role-derived fields exactly as recorded for each kind of user.

    ``chat_only`` makes an agent a chat-only agent (role_type 2, ``chat_only: true``); the
    key is absent from every other user, as in the recordings (docs/ZENDESK.md section 3).
    """
    user["role"] = role
    user.pop("chat_only", None)
    if role == "admin":
        user.update(role_type=4, custom_role_id=ADMIN_ROLE_ID, restricted_agent=False, ticket_restriction=None,
                    default_group_id=user.get("default_group_id") or DEFAULT_GROUP_ID, only_private_comments=False,
                    two_factor_auth_enabled=None, report_csv=True)
    elif role == "agent" and chat_only:
        user.update(role_type=2, chat_only=True, custom_role_id=None, restricted_agent=True, ticket_restriction=None,
                    default_group_id=user.get("default_group_id") or DEFAULT_GROUP_ID, only_private_comments=False,
                    two_factor_auth_enabled=None, report_csv=False)
    elif role == "agent" and custom_role_id:
        light = custom_role_id in _AGENT_ROLE_TYPES
        user.update(role_type=_AGENT_ROLE_TYPES.get(custom_role_id, 0), custom_role_id=custom_role_id,
                    restricted_agent=True,
                    ticket_restriction="groups", default_group_id=user.get("default_group_id") or DEFAULT_GROUP_ID,
                    only_private_comments=light, two_factor_auth_enabled=None, report_csv=False)
    elif role == "agent":
        user.update(role_type=None, custom_role_id=None, restricted_agent=False, ticket_restriction=None,
                    default_group_id=user.get("default_group_id") or DEFAULT_GROUP_ID, only_private_comments=False,
                    two_factor_auth_enabled=None, report_csv=False)
    elif role == "end-user":
        user.update(role_type=None, custom_role_id=None, restricted_agent=True, ticket_restriction="requested",
                    default_group_id=None, only_private_comments=False, two_factor_auth_enabled=False,
                    report_csv=False)
    else:
        raise ValueError(f"unknown role {role!r}")


def blank_user(base_url: str, uid: int, name: str, email: str | None, created: int, fields: list[dict]) -> dict:
    """A user with every one of the 37 keys, as an end user; callers then apply a role."""
    stamp = iso(created)
    user: dict[str, Any] = dict.fromkeys(USER_KEYS)
    user.update(id=uid, url=f"{base_url}/api/v2/users/{uid}.json", name=name, email=email, created_at=stamp,
                updated_at=stamp, time_zone="London", iana_time_zone="Europe/London", locale_id=1, locale="en-US",
                verified=email is not None, tags=[], active=True, shared=False, shared_agent=False, moderator=False,
                suspended=False, user_fields={f["key"]: None for f in fields})
    apply_role(user, "end-user", None)
    return user


@dataclass
class SeededOrg:
    users: list[dict[str, Any]]
    updated: list[int]
    custom_roles: list[dict[str, Any]]
    user_fields: list[dict[str, Any]]
    chat_agents: list[dict[str, Any]]
    owner_id: int
    next_id: int
    emails: set[str] = field(default_factory=set)


class _Namer:
    """Realistic, unique names and ASCII emails (``zoe.obrien2@…`` on a clash)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._taken: dict[str, int] = {}

    def person(self) -> tuple[str, str]:
        r = self._rng.random
        return FIRST_NAMES[int(r() * len(FIRST_NAMES))], LAST_NAMES[int(r() * len(LAST_NAMES))]

    def email(self, first: str, last: str, domain: str) -> str:
        stem = f"{ascii_slug(first)}.{ascii_slug(last)}"
        n = self._taken.get(f"{stem}@{domain}", 0) + 1
        self._taken[f"{stem}@{domain}"] = n
        return f"{stem}@{domain}" if n == 1 else f"{stem}{n}@{domain}"


def seed_org(cfg: SimConfig, base_url: str, now: float) -> SeededOrg:
    """Build the whole organisation. Users get ascending ids in creation order."""
    rng = random.Random(cfg.seed)
    namer = _Namer(rng)
    account_created = now - 3 * 365 * DAY
    roles = make_custom_roles(cfg.custom_roles, account_created)
    fields = make_user_fields(base_url, account_created)
    custom_ids = [r["id"] for r in roles if r["role_type"] == 0]

    staff_kinds: list[tuple[str, int | None]] = [("admin", None)] * (cfg.admins - 1)
    for i in range(cfg.agents):
        # A quarter of agents keep the plain "agent" role; the rest spread over the custom roles.
        pick = i % (len(custom_ids) + 1) if custom_ids else 0
        staff_kinds.append(("agent", None if pick == 0 or i % 4 == 0 else custom_ids[pick - 1]))
    staff_kinds += [("agent", LIGHT_AGENT_ROLE_ID)] * cfg.light_agents
    staff_kinds += [("agent", CONTRIBUTOR_ROLE_ID)] * cfg.contributors
    staff_kinds += [(CHAT_ONLY, None)] * cfg.chat_only_agents
    kinds = staff_kinds + [("end-user", None)] * cfg.end_users
    rng.shuffle(kinds)
    kinds.insert(0, ("admin", None))  # the account owner comes first

    staff_domain = f"{cfg.subdomain}.example.com"
    span = now - account_created - 2 * DAY
    users: list[dict] = []
    updated: list[int] = []
    uid = FIRST_USER_ID
    total = len(kinds)
    r = rng.random
    for n, (role, crid) in enumerate(kinds):
        uid += 1 + int(r() * 97)
        created = int(account_created + span * n / max(total, 1))
        first, last = namer.person()
        staff = role != "end-user"
        if staff:
            email: str | None = namer.email(first, last, staff_domain)
        else:
            email = None if r() < 0.1 else namer.email(first, last, CUSTOMER_DOMAINS[int(r() * len(CUSTOMER_DOMAINS))])
        user = blank_user(base_url, uid, f"{first} {last}", email, created, fields)
        if role == CHAT_ONLY:
            apply_role(user, "agent", None, chat_only=True)
        else:
            apply_role(user, role, crid)
        _decorate(user, rng, staff, n, created, now)
        upd = int(created + r() * (now - 2 * 3600 - created))
        user["updated_at"] = iso(upd)
        users.append(user)
        updated.append(upd)

    _mark(rng, users, updated, cfg.suspended, "suspended", now)
    _mark(rng, users, updated, cfg.deleted, "deleted", now)
    chat = seed_chat_agents(rng, cfg, users, namer, staff_domain, now) if cfg.chat_kind == "writable" else []
    emails = {u["email"].lower() for u in users if u["email"]}
    return SeededOrg(users, updated, roles, fields, chat, users[0]["id"], uid + 1, emails)


def _decorate(user: dict, rng: random.Random, staff: bool, n: int, created: int, now: float) -> None:
    r = rng.random
    tz, iana = TIME_ZONES[int(r() * len(TIME_ZONES))]
    locale, locale_id = LOCALES[int(r() * len(LOCALES))]
    user.update(time_zone=tz, iana_time_zone=iana, locale=locale, locale_id=locale_id)
    if staff:
        user.update(organization_id=ORGANIZATION_ID, external_id=f"EMP-{n:06d}", signature="", details="", notes="",
                    verified=True)
        user["user_fields"].update(employee_id=f"E{n:06d}", qa_team=(None, "team_north", "team_south")[int(r() * 3)],
                                   evalsync_exempt=False)
        if r() < 0.92:
            user["last_login_at"] = iso(now - r() * 60 * DAY)
    elif r() < 0.3:
        user["last_login_at"] = iso(created + r() * (now - created))


def _mark(rng: random.Random, users: list[dict], updated: list[int], count: int, what: str, now: float) -> None:
    """Suspend or delete ``count`` people, half staff and half customers, never the owner."""
    picked = _pick(rng, users, (count + 1) // 2, staff=True)
    picked += _pick(rng, users, count - len(picked), staff=False)
    for i in picked:
        if what == "suspended":
            users[i]["suspended"] = True
        else:
            users[i]["active"] = False
        updated[i] = int(now - 3 * 3600 - rng.random() * 30 * DAY)
        users[i]["updated_at"] = iso(updated[i])


def _pick(rng: random.Random, users: list[dict], count: int, staff: bool) -> list[int]:
    """Random untouched people of one kind, by probing (no scan of a 200k list)."""
    pool = [i for i in range(1, len(users)) if (users[i]["role"] != "end-user") == staff] \
        if count * 50 > len(users) else None
    picked: set[int] = set()
    for _ in range(count * 200 + 1000):
        if len(picked) >= count or (pool is not None and not pool):
            break
        i = pool[int(rng.random() * len(pool))] if pool is not None else 1 + int(rng.random() * (len(users) - 1))
        u = users[i]
        if i not in picked and u["active"] and not u["suspended"] and (u["role"] != "end-user") == staff:
            picked.add(i)
    return sorted(picked)


def seed_chat_agents(rng: random.Random, cfg: SimConfig, users: list[dict], namer: _Namer, domain: str,
                     now: float) -> list[dict]:
    """Standalone Chat: most chat agents are Support staff (same email); the rest are chat-only people."""
    staff = [u for u in users if u["role"] != "end-user" and u["active"]]
    agents = []
    cid = FIRST_CHAT_AGENT_ID
    for i in range(cfg.chat_agents):
        if i < len(staff):
            first, _, last = staff[i]["name"].partition(" ")
            email, admin = staff[i]["email"], staff[i]["role"] == "admin"
        else:
            first, last = namer.person()
            email, admin = namer.email(first, last, domain), False
        r = rng.random
        cid += 1 + int(r() * 9)
        created = now - r() * 700 * DAY
        agents.append(chat_agent(cid, email, first, last, enabled=r() > 0.1, admin=admin,
                                 owner=i == 0, created=created,
                                 last_login=None if r() < 0.05 else now - r() * 90 * DAY,
                                 login_count=int(r() * 900)))
    return agents


def chat_agent(cid: int, email: str, first: str, last: str, *, enabled: bool, admin: bool, owner: bool,
               created: float, last_login: float | None, login_count: int,
               departments: list[int] | None = None) -> dict[str, Any]:
    """A Chat agent object. ``enabled`` is a JSON boolean (the docs say 1/0; Airbyte's schema says
    boolean): the simulator always sends true/false, clients should accept both."""
    return {"id": cid, "email": email, "first_name": first, "last_name": last,
            "display_name": f"{first} {last}".strip(), "enabled": enabled, "role_id": 1 if admin else 2,
            "roles": {"administrator": admin, "owner": owner}, "departments": departments or [],
            "enabled_departments": departments or [], "skills": [], "create_date": iso(created),
            "last_login": iso(last_login) if last_login else None, "login_count": login_count}


