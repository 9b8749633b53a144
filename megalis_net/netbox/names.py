"""The names megalis-net gives things in NetBox: tag, groups, roles, slugs, custom fields.

Shared by ``desired`` (model -> NetBox) and ``load`` (NetBox -> model), so that
both sides agree by construction.
"""

from __future__ import annotations

from megalis_net.model import Platform
from megalis_net.netbox.state import Ref

TAG = "megalis-net"
CONTEXT = "megalis-net"
REGION_ROOT = "bretagne"
POP_GROUP = "pop"
POP_PREFIX = "pop-"
TENANT_GROUP = "communities"
DEVICE_ROLE = "pe"
ACCESS_TYPE = "access"
UPSTREAM_TYPE = "upstream"
LINK_TYPES = ("ring", "extension")
# ipam roles: what a VLAN or prefix is for (the loader reads allocations back by role).
ROLE_SITE_VLAN = "site-access"
ROLE_L2_VLAN = "site-l2"
ROLE_HANDOFF_VLAN = "l2-handoff"
ROLE_SITE_LAN = "site-lan"
ROLE_SITE_LINK = "site-link"
ROLE_BACKBONE_LINK = "backbone-link"
L2VPN_TYPE = "vpws"

# Vendor per platform (data, like intent.naming): manufacturer, device type.
VENDORS: dict[Platform, tuple[str, str]] = {
    Platform.FRR: ("FRRouting", "FRR Linux router"),
    Platform.IOSXR: ("Cisco", "ASR 9000"),
    Platform.JUNOS: ("Juniper", "MX204"),
}

# Custom fields: what the model holds that NetBox has no field for.
CUSTOM_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "megalis_position": (
        "integer",
        ("dcim.site", "dcim.device", "circuits.circuit", "circuits.provider", "ipam.vrf"),
    ),
    "megalis_pop_role": ("text", ("dcim.site",)),
    "megalis_access_ports": ("integer", ("dcim.site",)),
    "megalis_l2_renater": ("boolean", ("dcim.site",)),
    "megalis_legacy_lan": ("text", ("dcim.site",)),
    "megalis_legacy_gateway": ("text", ("dcim.site",)),
    "megalis_legacy_rate_kbps": ("integer", ("dcim.site",)),
    "megalis_metric": ("integer", ("circuits.circuit",)),
    "megalis_srlgs": ("text", ("circuits.circuit",)),
    "megalis_upstream_kind": ("text", ("circuits.circuit",)),
    "megalis_preference": ("text", ("circuits.circuit",)),
    "megalis_asn": ("integer", ("circuits.provider",)),
    "megalis_lots": ("text", ("circuits.provider",)),
}
# Topology sections kept whole in the config context (NetBox has no object for them).
CONTEXT_SECTIONS = (
    "ring",
    "srlgs",
    "l2_services",
    "pools",
    "routing",
    "management",
    "policy",
    "traffic",
)


def slug(text: str) -> str:
    """Examples:
    >>> slug("MEG1-00001")
    'meg1-00001'
    """
    return text.lower()


def pop_slug(pop: str) -> str:
    return f"{POP_PREFIX}{pop}"


def access_group(pop: str, port: int) -> str:
    return f"access-{pop}-{port}"


def handoff_group(pop: str) -> str:
    return f"handoff-{pop}"


def ref(endpoint: str, *key: str) -> Ref:
    return Ref(endpoint, tuple(key))
