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

from typing import Any

from megalis_net.geo import DEPARTEMENT_NAMES
from megalis_net.intent import MissingAllocation, build_intents
from megalis_net.ipam import Allocations, SiteAllocation, route_target
from megalis_net.model import Network, Site, UpstreamKind
from megalis_net.netbox.desired_ports import backbone_prefixes, cables, interfaces, l2vpns
from megalis_net.netbox.names import (
    ACCESS_TYPE,
    CONTEXT,
    CONTEXT_SECTIONS,
    CUSTOM_FIELDS,
    DEVICE_ROLE,
    LINK_TYPES,
    POP_GROUP,
    REGION_ROOT,
    ROLE_BACKBONE_LINK,
    ROLE_HANDOFF_VLAN,
    ROLE_L2_VLAN,
    ROLE_SITE_LAN,
    ROLE_SITE_LINK,
    ROLE_SITE_VLAN,
    TAG,
    TENANT_GROUP,
    UPSTREAM_TYPE,
    VENDORS,
    access_group,
    handoff_group,
    pop_slug,
    ref,
    slug,
)
from megalis_net.netbox.state import Builder, Ref, State


def desired_state(network: Network, allocations: Allocations) -> State:
    """Every NetBox object of the model, keyed naturally; see the module docstring."""
    intents = build_intents(network, allocations)
    b = Builder(TAG)
    _catalog(b, network)
    _pops(b, network)
    _devices(b, network)
    _vrfs(b, network)
    _sites(b, network, allocations)
    _circuits(b, network)
    interfaces(b, network, allocations, intents)
    cables(b, network, intents)
    backbone_prefixes(b, allocations)
    l2vpns(b, network, allocations)
    return b.state


def _catalog(b: Builder, network: Network) -> None:
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


def _pops(b: Builder, network: Network) -> None:
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


def _devices(b: Builder, network: Network) -> None:
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


def _vrfs(b: Builder, network: Network) -> None:
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


def _sites(b: Builder, network: Network, allocations: Allocations) -> None:
    waiting = [s.id for s in network.sites if s.id not in allocations.sites]
    if waiting:  # NetBox knows a site's PoP by its access VLAN
        more = f" (and {len(waiting) - 1} more)" if len(waiting) > 1 else ""
        raise MissingAllocation(
            f"site {waiting[0]} has no allocation{more}: run `megalis-net allocate` first"
        )
    for site in network.sites:
        legacy = site.legacy
        b.add(
            "dcim.sites",
            {
                "name": site.id,
                "slug": slug(site.id),
                "description": site.name,
                # a site still on Mégalis I is planned for Mégalis II
                "status": "active" if site.active else "planned",
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


def _site_resources(b: Builder, network: Network, site: Site, alloc: SiteAllocation) -> None:
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


def _circuits(b: Builder, network: Network) -> None:
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
        # One end only: the PoP is the site's VLAN group (its allocation), not stored twice.
        _termination(b, circuit, "Z", ref("dcim.sites", slug(site.id)))


def _circuit(
    b: Builder,
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


def _termination(b: Builder, circuit: Ref, side: str, site: Ref) -> None:
    b.add(
        "circuits.circuit-terminations",
        {"circuit": circuit, "term_side": side, "termination": site},
    )
