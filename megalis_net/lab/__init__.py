"""The lab: the network as real FRR routers in network namespaces on this machine."""

from megalis_net.lab.lab import (
    STATE_DIR,
    RouterAccess,
    RouterStatus,
    access,
    access_for,
    bare_config,
    down,
    hold,
    release,
    status,
    up,
)
from megalis_net.lab.plan import LabPlan, LabPlanError, netns_of, plan_lab
from megalis_net.lab.system import LabError

__all__ = [
    "STATE_DIR",
    "LabError",
    "LabPlan",
    "LabPlanError",
    "RouterAccess",
    "RouterStatus",
    "access",
    "access_for",
    "bare_config",
    "down",
    "hold",
    "netns_of",
    "plan_lab",
    "release",
    "status",
    "up",
]
