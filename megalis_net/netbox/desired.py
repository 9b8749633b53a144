"""Model + allocations -> the NetBox objects that represent them (pure, no I/O).

Where NetBox has a native object, the fact lives there (PoPs and
establishments are sites, links and accesses are circuits with their commit
rate, communities are tenants and VRFs, allocations are VLANs, prefixes and
IP addresses); what NetBox cannot model (pools, routing policy, the audit
policy and traffic model, SRLG descriptions, the ring order) is one config
context. Interfaces, cables and the PE side addresses come from the intent,
so NetBox shows each router as its rendered config has it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from ipaddress import IPv4Interface
from typing import Any

from megalis_net.intent import DeviceIntent, build_intents
from megalis_net.intent.model import Port, PortRole, SubInterface
from megalis_net.ipam import Allocations, SiteAllocation, route_target
from megalis_net.model import Departement, Network, Platform, Site, UpstreamKind
from megalis_net.netbox.state import KIND_BY_ENDPOINT, Fields, Ref, State, empty_state, key_of

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

DEPARTEMENT_NAMES = {
    Departement.COTES_DARMOR: "Côtes-d'Armor",
    Departement.FINISTERE: "Finistère",
    Departement.ILLE_ET_VILAINE: "Ille-et-Vilaine",
    Departement.MORBIHAN: "Morbihan",
}
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


class _Builder:
    """Accumulates objects; each carries the ownership tag."""

    def __init__(self) -> None:
        self.state = empty_state()

    def add(self, endpoint: str, fields: Fields) -> Ref:
        kind = KIND_BY_ENDPOINT[endpoint]
        if kind.owned:
            fields = {**fields, "tags": [ref("extras.tags", TAG)]}
        key = key_of(kind, fields)
        self.state[endpoint][key] = fields
        return Ref(endpoint, key)


def desired_state(network: Network, allocations: Allocations) -> State:
    """Every NetBox object of the model, keyed naturally; see the module docstring."""
    intents = build_intents(network, allocations)
    b = _Builder()
    _catalog(b, network)
    _pops(b, network)
    _devices(b, network)
    _vrfs(b, network)
    _sites(b, network, allocations)
    _circuits(b, network)
    _interfaces(b, network, allocations, intents)
    _cables(b, network, intents)
    _backbone_prefixes(b, allocations)
    _l2vpns(b, network, allocations)
    return b.state


def _catalog(b: _Builder, network: Network) -> None:
    """The shared vocabulary: tag, custom fields, regions, groups, types, roles."""
    b.state["extras.tags"][(TAG,)] = {
        "name": TAG,
        "slug": TAG,
        "color": "2196f3",
        "description": "Written by megalis-net: it changes and deletes only these objects",
    }
    for name, (cf_type, object_types) in CUSTOM_FIELDS.items():
        b.add(
            "extras.custom-fields",
            {
                "name": name,
                "type": cf_type,
                "object_types": sorted(object_types),
                "required": False,
            },
        )
    topology = network.topology.model_dump(mode="json")
    b.add(
        "extras.config-contexts",
        {
            "name": CONTEXT,
            "weight": 1000,
            "description": "Mégalis II design (megalis-net)",
            "data": {section: topology[section] for section in CONTEXT_SECTIONS},
        },
    )
    b.add("dcim.regions", {"name": "Bretagne", "slug": REGION_ROOT, "parent": None})
    for dep, name in DEPARTEMENT_NAMES.items():
        b.add(
            "dcim.regions",
            {"name": name, "slug": f"fr-{dep.value}", "parent": ref("dcim.regions", REGION_ROOT)},
        )
    kinds = sorted({s.kind.value for s in network.sites})
    for group in (POP_GROUP, *kinds):
        b.add("dcim.site-groups", {"name": group, "slug": group})
    b.add("tenancy.tenant-groups", {"name": "Communities", "slug": TENANT_GROUP})
    for vpn in network.topology.vpns:
        b.add(
            "tenancy.tenants",
            {
                "name": vpn.community.value,
                "slug": vpn.community.value,
                "group": ref("tenancy.tenant-groups", TENANT_GROUP),
            },
        )
    for role in (
        ROLE_SITE_VLAN,
        ROLE_L2_VLAN,
        ROLE_HANDOFF_VLAN,
        ROLE_SITE_LAN,
        ROLE_SITE_LINK,
        ROLE_BACKBONE_LINK,
    ):
        b.add("ipam.roles", {"name": role, "slug": role})
    b.add("dcim.device-roles", {"name": "PE router", "slug": DEVICE_ROLE, "color": "4caf50"})
    for ctype in (*LINK_TYPES, UPSTREAM_TYPE, ACCESS_TYPE):
        b.add("circuits.circuit-types", {"name": ctype, "slug": ctype})
    for position, provider in enumerate(network.topology.providers):
        b.add(
            "circuits.providers",
            {
                "name": provider.display_name,
                "slug": provider.name,
                "custom_fields": {
                    "megalis_asn": provider.asn,
                    "megalis_position": position,
                    "megalis_lots": ",".join(lot.value for lot in provider.lots),
                },
            },
        )


def _pops(b: _Builder, network: Network) -> None:
    for position, pop in enumerate(network.topology.pops):
        b.add(
            "dcim.sites",
            {
                "name": f"PoP {pop.city}",
                "slug": pop_slug(pop.name),
                "facility": pop.city,
                "status": "active",
                "region": ref("dcim.regions", f"fr-{pop.departement.value}"),
                "group": ref("dcim.site-groups", POP_GROUP),
                "latitude": pop.latitude,
                "longitude": pop.longitude,
                "custom_fields": {
                    "megalis_position": position,
                    "megalis_pop_role": pop.role.value,
                    "megalis_access_ports": pop.access_ports,
                },
            },
        )
        groups = [access_group(pop.name, n) for n in range(pop.access_ports)]
        if pop.name == network.topology.l2_handoff_pop:
            groups.append(handoff_group(pop.name))
        for group in groups:
            b.add(
                "ipam.vlan-groups",
                {"name": group, "slug": group, "scope": ref("dcim.sites", pop_slug(pop.name))},
            )


def _devices(b: _Builder, network: Network) -> None:
    for platform, (maker, model) in VENDORS.items():
        b.add("dcim.manufacturers", {"name": maker, "slug": slug(maker)})
        b.add(
            "dcim.device-types",
            {
                "model": model,
                "slug": slug(model).replace(" ", "-"),
                "manufacturer": ref("dcim.manufacturers", slug(maker)),
            },
        )
        b.add(
            "dcim.platforms",
            {
                "name": platform.value,
                "slug": platform.value,
                "manufacturer": ref("dcim.manufacturers", slug(maker)),
            },
        )
    for position, device in enumerate(network.devices):
        model = VENDORS[device.platform][1]
        b.add(
            "dcim.devices",
            {
                "name": device.name,
                "role": ref("dcim.device-roles", DEVICE_ROLE),
                "device_type": ref("dcim.device-types", slug(model).replace(" ", "-")),
                "platform": ref("dcim.platforms", device.platform.value),
                "site": ref("dcim.sites", pop_slug(device.pop)),
                "status": "active",
                "custom_fields": {"megalis_position": position},
            },
        )


def _vrfs(b: _Builder, network: Network) -> None:
    topology = network.topology
    asn = topology.routing.asn
    for kind, number in sorted(topology.routing.extranets.items()):
        rt = b.add(
            "ipam.route-targets",
            {"name": route_target(asn, number), "description": f"extranet {kind.value}"},
        )
        b.add(
            "ipam.vrfs",
            {
                "name": kind.value,
                "description": f"extranet of the {kind.value} upstreams",
                "tenant": None,
                "import_targets": [rt],
                "export_targets": [rt],
                "enforce_unique": False,
            },
        )
    extranets = {k: route_target(asn, n) for k, n in topology.routing.extranets.items()}
    for position, vpn in enumerate(topology.vpns):
        own = b.add(
            "ipam.route-targets",
            {"name": route_target(asn, vpn.vpn_id), "description": f"VPN {vpn.community.value}"},
        )
        imports = [own] + [
            ref("ipam.route-targets", extranets[kind])
            for kind, allowed in (
                (UpstreamKind.INTERNET, vpn.internet),
                (UpstreamKind.RENATER, vpn.renater),
            )
            if allowed and kind in extranets
        ]
        b.add(
            "ipam.vrfs",
            {
                "name": vpn.community.value,
                "description": vpn.description,
                "tenant": ref("tenancy.tenants", vpn.community.value),
                "import_targets": sorted(imports),
                "export_targets": [own],
                "enforce_unique": False,
                "custom_fields": {"megalis_position": position},
            },
        )


def _sites(b: _Builder, network: Network, allocations: Allocations) -> None:
    for site in network.sites:
        legacy = site.legacy
        b.add(
            "dcim.sites",
            {
                "name": site.id,
                "slug": slug(site.id),
                "description": site.name,
                "status": "active",
                "region": ref("dcim.regions", f"fr-{site.departement.value}"),
                "group": ref("dcim.site-groups", site.kind.value),
                "tenant": ref("tenancy.tenants", site.community.value),
                "physical_address": site.commune,
                "latitude": site.latitude,
                "longitude": site.longitude,
                "custom_fields": {
                    "megalis_l2_renater": site.l2_renater,
                    "megalis_legacy_lan": str(legacy.lan_prefix) if legacy else None,
                    "megalis_legacy_gateway": str(legacy.gateway) if legacy else None,
                    "megalis_legacy_rate_kbps": legacy.rate_kbps if legacy else None,
                },
            },
        )
        _site_resources(b, network, site, allocations.sites[site.id])


def _site_resources(b: _Builder, network: Network, site: Site, alloc: SiteAllocation) -> None:
    tenant = ref("tenancy.tenants", site.community.value)
    scope = ref("dcim.sites", slug(site.id))
    vrf = ref("ipam.vrfs", site.community.value)
    group = ref("ipam.vlan-groups", access_group(alloc.pop, alloc.port))
    vlans = [(group, site.id, alloc.vlan, ROLE_SITE_VLAN)]
    if alloc.l2_vlan is not None:
        vlans.append((group, f"{site.id}-l2", alloc.l2_vlan, ROLE_L2_VLAN))
    handoff = network.topology.l2_handoff_pop
    if alloc.handoff_vlan is not None and handoff is not None:
        vlans.append(
            (
                ref("ipam.vlan-groups", handoff_group(handoff)),
                site.id,
                alloc.handoff_vlan,
                ROLE_HANDOFF_VLAN,
            )
        )
    for vgroup, name, vid, role in vlans:
        b.add(
            "ipam.vlans",
            {
                "group": vgroup,
                "name": name,
                "vid": vid,
                "status": "active",
                "role": ref("ipam.roles", role),
                "tenant": tenant,
            },
        )
    for prefix, role in ((alloc.link_net, ROLE_SITE_LINK), (alloc.lan, ROLE_SITE_LAN)):
        b.add(
            "ipam.prefixes",
            {
                "prefix": str(prefix),
                "vrf": vrf,
                "scope": scope,
                "role": ref("ipam.roles", role),
                "tenant": tenant,
                "status": "active",
                "description": site.id,
            },
        )


def _circuits(b: _Builder, network: Network) -> None:
    topology = network.topology
    access = next((p.name for p in topology.providers if "access" in p.lots), None)
    position = 0
    for link in topology.links:
        fields = {"megalis_metric": link.metric, "megalis_srlgs": ",".join(link.srlgs)}
        _circuit(
            b,
            link.name,
            link.provider,
            link.role.value,
            link.capacity_mbps,
            position,
            fields,
            link.a,
            link.b,
        )
        position += 1
    for up in topology.upstreams:
        fields = {
            "megalis_upstream_kind": up.kind.value,
            "megalis_preference": up.preference.value,
            "megalis_srlgs": ",".join(up.srlgs),
        }
        _circuit(
            b, up.name, up.provider, UPSTREAM_TYPE, up.capacity_mbps, position, fields, up.pop, None
        )
        position += 1
    if access is None:
        return
    for site in network.sites:
        circuit = b.add(
            "circuits.circuits",
            {
                "cid": site.id,
                "provider": ref("circuits.providers", access),
                "type": ref("circuits.circuit-types", ACCESS_TYPE),
                "status": "active",
                "commit_rate": site.rate_mbps * 1000,
                "tenant": ref("tenancy.tenants", site.community.value),
            },
        )
        _termination(b, circuit, "A", ref("dcim.sites", pop_slug(site.pop)))
        _termination(b, circuit, "Z", ref("dcim.sites", slug(site.id)))


def _circuit(
    b: _Builder,
    cid: str,
    provider: str,
    ctype: str,
    capacity: int,
    position: int,
    custom: dict[str, Any],
    a: str,
    z: str | None,
) -> None:
    circuit = b.add(
        "circuits.circuits",
        {
            "cid": cid,
            "provider": ref("circuits.providers", provider),
            "type": ref("circuits.circuit-types", ctype),
            "status": "active",
            "commit_rate": capacity * 1000,
            "tenant": None,
            "custom_fields": {**custom, "megalis_position": position},
        },
    )
    _termination(b, circuit, "A", ref("dcim.sites", pop_slug(a)))
    if z is not None:
        _termination(b, circuit, "Z", ref("dcim.sites", pop_slug(z)))


def _termination(b: _Builder, circuit: Ref, side: str, site: Ref) -> None:
    b.add(
        "circuits.circuit-terminations",
        {"circuit": circuit, "term_side": side, "termination": site},
    )


def _interfaces(
    b: _Builder, network: Network, allocations: Allocations, intents: Mapping[str, DeviceIntent]
) -> None:
    vlan_names = {(group, f["vid"]): name for (group, name), f in b.state["ipam.vlans"].items()}
    for name, intent in intents.items():
        device = ref("dcim.devices", name)
        lo = b.add(
            "dcim.interfaces",
            {
                "device": device,
                "name": intent.loopback,
                "type": "virtual",
                "description": "loopback",
            },
        )
        _address(b, IPv4Interface((intent.router_id, 32)), None, lo, "loopback", "loopback")
        mgmt = b.add(
            "dcim.interfaces",
            {
                "device": device,
                "name": intent.management,
                "type": "1000base-t",
                "mgmt_only": True,
                "description": "management",
            },
        )
        primary = _address(b, intent.management_address, None, mgmt, None, "management")
        b.state["dcim.devices"][(name,)]["primary_ip4"] = primary
        for port, group in _ports_with_groups(intent):
            parent = _port(b, device, port)
            for sub in port.subinterfaces:
                vlan = ref("ipam.vlans", group, vlan_names[(group, sub.vlan)]) if group else None
                _subinterface(b, device, parent, sub, vlan)


def _ports_with_groups(intent: DeviceIntent) -> Iterator[tuple[Port, str | None]]:
    """Each port with the VLAN group its sub-interfaces draw from (access ports in order)."""
    access = 0
    for port in intent.ports:
        if port.role is PortRole.ACCESS:
            yield port, access_group(intent.pop, access)
            access += 1
        elif port.role is PortRole.HANDOFF:
            yield port, handoff_group(intent.pop)
        else:
            yield port, None


def _port(b: _Builder, device: Ref, port: Port) -> Ref:
    kind = "1000base-x-sfp" if port.speed_mbps <= 1000 else "10gbase-x-sfpp"
    iface = b.add(
        "dcim.interfaces",
        {
            "device": device,
            "name": port.name,
            "type": kind,
            "speed": port.speed_mbps * 1000,
            "description": port.description,
        },
    )
    if port.l3 is not None:
        _address(b, port.l3.address, port.l3.vrf, iface, None, port.description)
    if port.tagged:
        b.state["dcim.interfaces"][iface.key]["mode"] = "tagged"
    return iface


def _subinterface(
    b: _Builder, device: Ref, parent: Ref, sub: SubInterface, vlan: Ref | None
) -> None:
    vrf = sub.l3.vrf if sub.l3 is not None else None
    iface = b.add(
        "dcim.interfaces",
        {
            "device": device,
            "name": sub.name,
            "type": "virtual",
            "parent": parent,
            "description": sub.description,
            "mode": "access",
            "untagged_vlan": vlan,
            "vrf": ref("ipam.vrfs", vrf) if vrf else None,
        },
    )
    if sub.l3 is not None:
        _address(b, sub.l3.address, vrf, iface, None, sub.description)


def _address(
    b: _Builder,
    address: IPv4Interface,
    vrf: str | None,
    iface: Ref,
    role: str | None,
    description: str,
) -> Ref:
    return b.add(
        "ipam.ip-addresses",
        {
            "address": str(address),
            "description": description,
            "vrf": ref("ipam.vrfs", vrf) if vrf else None,
            "assigned_object": iface,
            "role": role,
            "status": "active",
        },
    )


def _cables(b: _Builder, network: Network, intents: Mapping[str, DeviceIntent]) -> None:
    """Ring and extension links, PE port to PE port (the port named by the link)."""
    device_at = {d.pop: d.name for d in network.devices}
    ends: dict[str, list[Ref]] = {}
    for name, intent in intents.items():
        for port in intent.ports_of(PortRole.BACKBONE):
            link_name = port.description.split(" ", 1)[0]
            ends.setdefault(link_name, []).append(ref("dcim.interfaces", name, port.name))
    for link in network.topology.links:
        a_dev, b_dev = device_at[link.a], device_at[link.b]
        a = [e for e in ends.get(link.name, []) if e.key[0] == a_dev]
        z = [e for e in ends.get(link.name, []) if e.key[0] == b_dev]
        b.add(
            "dcim.cables",
            {"label": link.name, "status": "connected", "a_terminations": a, "b_terminations": z},
        )


def _backbone_prefixes(b: _Builder, allocations: Allocations) -> None:
    for name, net in sorted(allocations.links.items()):
        b.add(
            "ipam.prefixes",
            {
                "prefix": str(net),
                "vrf": None,
                "scope": None,
                "role": ref("ipam.roles", ROLE_BACKBONE_LINK),
                "tenant": None,
                "status": "active",
                "description": name,
            },
        )


def _l2vpns(b: _Builder, network: Network, allocations: Allocations) -> None:
    services = network.topology.l2_services
    handoff = network.topology.l2_handoff_pop
    if not services or handoff is None:
        return
    service = services[0]
    for site in network.sites:
        alloc = allocations.sites[site.id]
        if alloc.l2_vlan is None or alloc.handoff_vlan is None:
            continue
        name = f"{service.name}-{site.id}"
        l2vpn = b.add(
            "vpn.l2vpns",
            {
                "name": name,
                "slug": slug(name),
                "type": L2VPN_TYPE,
                "identifier": alloc.handoff_vlan,
                "tenant": ref("tenancy.tenants", site.community.value),
                "description": service.description,
            },
        )
        group = access_group(alloc.pop, alloc.port)
        for vlan in (
            ref("ipam.vlans", group, f"{site.id}-l2"),
            ref("ipam.vlans", handoff_group(handoff), site.id),
        ):
            b.add("vpn.l2vpn-terminations", {"l2vpn": l2vpn, "assigned_object": vlan})
