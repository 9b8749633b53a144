"""NetBox objects as plain comparable data: what we want, and what is there.

Both sides of a sync use one shape, ``State``: per endpoint, natural key ->
fields. References to other objects are ``Ref(endpoint, key)``, never numeric
ids, so the desired state is computed without asking NetBox anything and the
diff (``plan``) is a pure function. Ids only appear when writing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, ...]


@dataclass(frozen=True, slots=True, order=True)
class Ref:
    """A reference to another NetBox object by its natural key."""

    endpoint: str
    key: Key


Fields = dict[str, Any]
State = dict[str, dict[Key, Fields]]


@dataclass(frozen=True)
class Kind:
    """How one NetBox endpoint is keyed, linked and written.

    ``refs``: plain foreign-key fields and the endpoint they point to.
    ``generic``: pseudo-fields that NetBox spells as a (type, id) pair, e.g.
    a prefix's ``scope`` -> ``scope_type``/``scope_id``.
    ``terminations``: cable ends, lists of (type, id).
    ``deferred``: fields written after every kind exists (a device's primary IP
    needs the IP, which needs the device's interface).
    ``owned``: objects we create carry the ownership tag; tags themselves cannot.
    """

    endpoint: str
    key_fields: tuple[str, ...]
    refs: Mapping[str, str] = field(default_factory=dict)
    generic: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    terminations: tuple[str, ...] = ()
    deferred: frozenset[str] = frozenset()
    owned: bool = True
    # A config context's tags select where it applies, and go by slug, not id.
    slug_tags: bool = False

    @property
    def label(self) -> str:
        return self.endpoint.split(".", 1)[1]


# NetBox content types of the objects a generic field may point to.
CONTENT_TYPES = {
    "dcim.site": "dcim.sites",
    "dcim.interface": "dcim.interfaces",
    "ipam.vlan": "ipam.vlans",
}
ENDPOINT_TYPES = {endpoint: ctype for ctype, endpoint in CONTENT_TYPES.items()}

# Dependency order: every kind only refers to kinds above it (deferred fields aside).
KINDS: tuple[Kind, ...] = (
    Kind("extras.tags", ("slug",), owned=False),
    Kind("extras.custom-fields", ("name",), owned=False),
    Kind("extras.config-contexts", ("name",), slug_tags=True),
    Kind("dcim.regions", ("slug",), refs={"parent": "dcim.regions"}),
    Kind("dcim.site-groups", ("slug",)),
    Kind("tenancy.tenant-groups", ("slug",)),
    Kind("tenancy.tenants", ("slug",), refs={"group": "tenancy.tenant-groups"}),
    Kind(
        "dcim.sites",
        ("slug",),
        refs={"region": "dcim.regions", "group": "dcim.site-groups", "tenant": "tenancy.tenants"},
    ),
    Kind("dcim.manufacturers", ("slug",)),
    Kind("dcim.device-types", ("slug",), refs={"manufacturer": "dcim.manufacturers"}),
    Kind("dcim.device-roles", ("slug",)),
    Kind("dcim.platforms", ("slug",), refs={"manufacturer": "dcim.manufacturers"}),
    Kind(
        "dcim.devices",
        ("name",),
        refs={
            "role": "dcim.device-roles",
            "device_type": "dcim.device-types",
            "platform": "dcim.platforms",
            "site": "dcim.sites",
            "primary_ip4": "ipam.ip-addresses",
        },
        deferred=frozenset({"primary_ip4"}),
    ),
    Kind("ipam.roles", ("slug",)),
    Kind("ipam.route-targets", ("name",)),
    Kind(
        "ipam.vrfs",
        ("name",),
        refs={
            "tenant": "tenancy.tenants",
            "import_targets": "ipam.route-targets",
            "export_targets": "ipam.route-targets",
        },
    ),
    Kind("ipam.vlan-groups", ("slug",), generic={"scope": ("scope_type", "scope_id")}),
    Kind(
        "ipam.vlans",
        ("group", "name"),
        refs={"group": "ipam.vlan-groups", "role": "ipam.roles", "tenant": "tenancy.tenants"},
    ),
    Kind(
        "dcim.interfaces",
        ("device", "name"),
        refs={
            "device": "dcim.devices",
            "parent": "dcim.interfaces",
            "vrf": "ipam.vrfs",
            "untagged_vlan": "ipam.vlans",
        },
    ),
    Kind(
        "dcim.cables",
        ("label",),
        terminations=("a_terminations", "b_terminations"),
    ),
    Kind(
        "ipam.prefixes",
        ("vrf", "prefix"),
        refs={"vrf": "ipam.vrfs", "role": "ipam.roles", "tenant": "tenancy.tenants"},
        generic={"scope": ("scope_type", "scope_id")},
    ),
    Kind(
        "ipam.ip-addresses",
        ("vrf", "address"),
        refs={"vrf": "ipam.vrfs", "tenant": "tenancy.tenants"},
        generic={"assigned_object": ("assigned_object_type", "assigned_object_id")},
    ),
    Kind("circuits.providers", ("slug",)),
    Kind("circuits.circuit-types", ("slug",)),
    Kind(
        "circuits.circuits",
        ("cid",),
        refs={
            "provider": "circuits.providers",
            "type": "circuits.circuit-types",
            "tenant": "tenancy.tenants",
        },
    ),
    Kind(
        "circuits.circuit-terminations",
        ("circuit", "term_side"),
        refs={"circuit": "circuits.circuits"},
        generic={"termination": ("termination_type", "termination_id")},
    ),
    Kind("vpn.l2vpns", ("slug",), refs={"tenant": "tenancy.tenants"}),
    Kind(
        "vpn.l2vpn-terminations",
        ("l2vpn", "assigned_object"),
        refs={"l2vpn": "vpn.l2vpns"},
        generic={"assigned_object": ("assigned_object_type", "assigned_object_id")},
    ),
)
KIND_BY_ENDPOINT = {kind.endpoint: kind for kind in KINDS}

# The fields we manage on each endpoint: the only ones read back (``?fields=``),
# which makes reading 3-4x faster than NetBox's full representation (interfaces
# compute cable paths and peers for each object). tests/test_netbox_plan.py checks
# that the desired state uses no other field.
MANAGED_FIELDS: dict[str, tuple[str, ...]] = {
    "extras.tags": ("name", "slug", "color", "description"),
    "extras.custom-fields": ("name", "type", "object_types", "required"),
    "extras.config-contexts": ("name", "weight", "description", "data", "tags"),
    "dcim.regions": ("name", "slug", "parent", "tags"),
    "dcim.site-groups": ("name", "slug", "tags"),
    "tenancy.tenant-groups": ("name", "slug", "tags"),
    "tenancy.tenants": ("name", "slug", "group", "tags"),
    "dcim.sites": ("name", "slug", "facility", "status", "region", "group", "latitude",
                   "longitude", "custom_fields", "tags", "description", "tenant",
                   "physical_address"),
    "dcim.manufacturers": ("name", "slug", "tags"),
    "dcim.device-types": ("model", "slug", "manufacturer", "tags"),
    "dcim.device-roles": ("name", "slug", "color", "tags"),
    "dcim.platforms": ("name", "slug", "manufacturer", "tags"),
    "dcim.devices": ("name", "role", "device_type", "platform", "site", "status",
                     "custom_fields", "tags", "primary_ip4"),
    "ipam.roles": ("name", "slug", "tags"),
    "ipam.route-targets": ("name", "description", "tags"),
    "ipam.vrfs": ("name", "description", "tenant", "import_targets", "export_targets",
                  "enforce_unique", "tags", "custom_fields"),
    "ipam.vlan-groups": ("name", "slug", "scope", "tags"),
    "ipam.vlans": ("group", "name", "vid", "status", "role", "tenant", "tags"),
    "dcim.interfaces": ("device", "name", "type", "description", "tags", "mgmt_only", "speed",
                        "mode", "parent", "untagged_vlan", "vrf"),
    "dcim.cables": ("label", "status", "a_terminations", "b_terminations", "tags"),
    "ipam.prefixes": ("prefix", "vrf", "scope", "role", "tenant", "status", "description",
                      "tags"),
    "ipam.ip-addresses": ("address", "description", "vrf", "assigned_object", "role", "status",
                          "tags"),
    "circuits.providers": ("name", "slug", "custom_fields", "tags"),
    "circuits.circuit-types": ("name", "slug", "tags"),
    "circuits.circuits": ("cid", "provider", "type", "status", "commit_rate", "tenant",
                          "custom_fields", "tags"),
    "circuits.circuit-terminations": ("circuit", "term_side", "termination", "tags"),
    "vpn.l2vpns": ("name", "slug", "type", "identifier", "tenant", "description", "tags"),
    "vpn.l2vpn-terminations": ("l2vpn", "assigned_object", "tags"),
}  # fmt: skip


def request_fields(kind: Kind) -> tuple[str, ...]:
    """What to ask NetBox for: the id, and each managed field as NetBox spells it.

    Examples:
        >>> request_fields(KIND_BY_ENDPOINT["ipam.vlan-groups"])
        ('id', 'name', 'slug', 'scope_type', 'scope_id', 'tags')
    """
    names: list[str] = ["id"]
    for name in MANAGED_FIELDS[kind.endpoint]:
        names += kind.generic.get(name, (name,))
    return tuple(names)


def empty_state() -> State:
    return {kind.endpoint: {} for kind in KINDS}


def key_part(value: Any) -> str:
    """A key component as text: a reference contributes its own key, joined.

    Examples:
        >>> key_part(Ref("ipam.vrfs", ("research",)))
        'research'
        >>> key_part(None)
        ''
    """
    if isinstance(value, Ref):
        return "/".join(value.key)
    return "" if value is None else str(value)


def key_of(kind: Kind, fields: Fields) -> Key:
    """The natural key of an object from its (reference-level) fields."""
    return tuple(key_part(fields.get(name)) for name in kind.key_fields)


class Builder:
    """Accumulates objects; each carries the ownership tag."""

    def __init__(self, tag: str) -> None:
        self.state = empty_state()
        self.tag = tag

    def add(self, endpoint: str, fields: Fields) -> Ref:
        kind = KIND_BY_ENDPOINT[endpoint]
        if kind.owned:
            fields = {**fields, "tags": [Ref("extras.tags", (self.tag,))]}
        key = key_of(kind, fields)
        self.state[endpoint][key] = fields
        return Ref(endpoint, key)
