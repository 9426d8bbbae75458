"""A faithful Zendesk simulator on loopback (Support users, OAuth, Chat agents, limits, faults).

    from evalsync_gui.sim import Simulator, SimConfig
    with Simulator(SimConfig(agents=50, end_users=100)) as sim:
        ...  # sim.base_url, sim.admin_email, sim.api_token

No Qt here: it runs standalone (``evalsync simulator``) and inside tests.
"""

from evalsync_gui.sim.config import SimConfig
from evalsync_gui.sim.faults import KINDS as FAULT_KINDS
from evalsync_gui.sim.server import Simulator

__all__ = ["FAULT_KINDS", "SimConfig", "Simulator"]
