"""Intent: the per-router records the templates format (see ``intent.model``)."""

from megalis_net.intent.build import (
    MissingAllocation,
    build_intents,
    check_allocated,
    devices_of_site,
)
from megalis_net.intent.model import DeviceIntent, PortRole
from megalis_net.intent.naming import NAMING

__all__ = [
    "NAMING",
    "DeviceIntent",
    "MissingAllocation",
    "PortRole",
    "build_intents",
    "check_allocated",
    "devices_of_site",
]
