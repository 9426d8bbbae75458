"""Zendesk's documented answers, written by hand from the sources named beside each one.

These never come from the simulator, so a wrong assumption shared by the client and the
simulator shows up here. Sources are abbreviated as in docs/ZENDESK.md.
"""

from __future__ import annotations

# [CHAG] developer.zendesk.com/api-reference/live-chat/chat-api/agents/ "List Agents": a bare JSON
# array; "enabled" documented as an integer 1/0; record-id cursors since_id / limit.
CHAT_AGENTS_PAGE = [
    {"id": 100, "email": "ana@acme.com", "first_name": "Ana", "last_name": "Ruiz", "display_name": "Ana",
     "enabled": 1, "role_id": 2, "roles": {"administrator": False, "owner": False}, "departments": [],
     "enabled_departments": [], "skills": [], "create_date": "2014-09-30T08:10:47Z"},
    {"id": 101, "email": "ben@acme.com", "first_name": "Ben", "last_name": "Ode", "display_name": "Ben",
     "enabled": 0, "role_id": 2, "roles": {"administrator": False, "owner": False}, "departments": [],
     "enabled_departments": [], "skills": [], "create_date": "2015-01-02T10:00:00Z"},
]

# [CHAUTH] developer.zendesk.com/documentation/live-chat/getting-started/auth (authorization code
# grant, token response) and help article 4408828740762: a bearer token with the granted scopes.
CHAT_TOKEN = {"access_token": "chat-access-0123456789", "token_type": "Bearer",
              "refresh_token": "chat-refresh-0123456789", "scope": "read write"}

# RFC 6749 section 5.2, which Zendesk's OAuth servers follow ([OAS] Support token errors).
INVALID_GRANT = {"error": "invalid_grant", "error_description": "The provided authorization grant is invalid."}

# [2026 OAS] GET /api/v2/users/{user_id}/entitlements/full, response example (Chat created in Support).
ENTITLEMENTS_WITH_CHAT_OFF = {"entitlements": {
    "chat": {"name": "agent", "is_active": False}, "explore": {"name": "viewer", "is_active": True},
    "guide": {"name": "viewer", "is_active": True}, "talk": {"name": "agent", "is_active": False}}}
ENTITLEMENTS_WITH_CHAT_ON = {"entitlements": {**ENTITLEMENTS_WITH_CHAT_OFF["entitlements"],
                                              "chat": {"name": "agent", "is_active": True}}}
# The same operation when no Support product entitlement mentions Chat (inference, docs/ZENDESK.md 6).
ENTITLEMENTS_WITHOUT_CHAT = {"entitlements": {"explore": {"name": "viewer", "is_active": True},
                                              "guide": {"name": "viewer", "is_active": True}}}
# [2026 OAS] errors of that operation: 404 "User not found".
RECORD_NOT_FOUND = {"error": "RecordNotFound", "description": "Not found"}

# [OAS] GET /api/v2/users/search -> {"users": [...], "next_page", "previous_page", "count"}.
SEARCH_EMPTY = {"users": [], "next_page": None, "previous_page": None, "count": 0}

# [OAS] POST /api/v2/users -> 201 {"user": {...}} (the fields EvalSync reads).
CREATED_USER = {"user": {"id": 35436, "name": "Kim Lee", "email": "kim@acme.com", "role": "agent",
                         "custom_role_id": None, "suspended": False, "active": True}}

# [REQ] developer.zendesk.com/api-reference/introduction/requests; section 6 of the reference:
# 403 for a role, plan or scope that does not allow the call (custom roles below Enterprise).
FORBIDDEN = {"error": "Forbidden", "description": "You do not have access to this page. Please contact the "
                                                  "account owner of this help desk for further help."}

# Section 6 of the reference: 401 for Basic (API token) credentials the endpoint does not take.
BASIC_401 = {"error": "Couldn't authenticate you"}

# [OAS] GET /api/v2/users?role[]=agent&role[]=admin (cursor page): users with last_login_at, which
# moves on a Support sign-in and on API-token requests ([OAS] User.last_login_at).
STAFF_PAGE = {"users": [{"id": 1, "email": "ana@acme.com", "role": "agent", "last_login_at": "2020-01-01T00:00:00Z"},
                        {"id": 2, "email": "ben@acme.com", "role": "agent", "last_login_at": None}],
              "meta": {"has_more": False, "after_cursor": None, "before_cursor": None},
              "links": {"next": None, "prev": None}}

# [OAS] 422 RecordInvalid for a taken address (details.email[].error DuplicateValue), as in the
# reference's section 1 and zenpy's 422 handling.
EMAIL_TAKEN = {"error": "RecordInvalid", "description": "Record validation errors",
               "details": {"email": [{"description": "Email: kim@acme.com is already being used by another user",
                                      "error": "DuplicateValue"}]}}
SEARCH_AGENT = {"users": [{"id": 35436, "email": "kim@acme.com", "role": "agent", "active": True,
                           "suspended": False, "custom_role_id": None}],
                "next_page": None, "previous_page": None, "count": 1}
