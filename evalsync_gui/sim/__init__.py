"""A faithful Zendesk simulator on loopback (Support users, OAuth, Chat agents, limits, faults).

    from evalsync_gui.sim import Simulator, SimConfig
    with Simulator(SimConfig(agents=50, end_users=100)) as sim:
        ...  # sim.base_url, sim.admin_email, sim.api_token, sim.oauth_client_id

It reproduces recorded behaviour (the facts and their sources are in docs/ZENDESK.md):
padded base64 cursors, ``links.next`` on a non-empty last page, a trailing empty page after
a full multiple of ``page[size]``, the 37-key user object, both rate-limit header sets.

Choices where the documentation is silent (clients must not depend on more than this):
- Chat ``enabled`` is a JSON boolean (docs say 1/0, Airbyte's schema says boolean).
- Chat ``since_id`` is inclusive (Airbyte sends ``last_id + 1``); ``limit`` defaults to and
  is capped at 100; the list is a bare array; stop on an empty page.
- In ``chat_kind="support"`` the Chat agents are the Support team members whose Chat
  entitlement is on (seeded: plain agents and admins, and custom roles with ``chat_access``;
  not "Light agent" nor every third custom role, e.g. "QA Lead"); their ids are the Support
  user ids; suspended -> enabled false; agent writes answer 403; ``sim.set_chat_access(uid)``
  (or ``POST /_sim/admin-center/users/{id}/chat``) plays Admin Center's Chat switch;
  ``SimConfig.chat_agents`` is ignored in that kind.
- ``/api/v2/chat/*`` takes only tokens of the Chat OAuth client (``sim.chat_client_id`` /
  ``sim.chat_client_secret``; ``sim.chat_token()`` mints one); Support Basic or Bearer get 401.
- ``plan`` below ``enterprise``: ``/api/v2/custom_roles`` answers 403 (no documented body).
- OAuth redirect URLs: the Chat client accepts only its registered ``chat_redirect_uris``
  (``sim.register_chat_redirect``); the Support client does too once ``support_redirect_uris``
  is set, else any loopback address (the tests' convenience).
- ``POST /oauth/tokens`` answers 200 (the OAS says 201; accept both); codes live 120 s and
  are single use even when the exchange fails; public clients must use PKCE S256.
- ``GET /api/v2/users/me`` without any Authorization header answers 200 with an anonymous
  end user (as Zendesk does); a wrong credential answers 401.
- A mutation sets ``updated_at`` to the simulated "now"; the incremental exports hide the
  last 60 s, so tests call ``sim.advance(61)`` before expecting the change there.
- The 429 body is plain text; Retry-After and ratelimit-reset are the seconds left in the
  current fixed one-minute window. A limit of 0/None switches that limit off.
- A stopped simulator cannot be restarted: make a new one.

No Qt here: it runs standalone (``evalsync simulator``) and inside tests.
"""

from evalsync_gui.sim.config import SimConfig
from evalsync_gui.sim.faults import KINDS as FAULT_KINDS
from evalsync_gui.sim.server import Simulator

__all__ = ["FAULT_KINDS", "SimConfig", "Simulator"]
