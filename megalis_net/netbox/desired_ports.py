"""The routers' side of the desired state, from the intent: interfaces, addresses,
cables, backbone link nets and the L2 VPNs of the research sites."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from ipaddress import IPv4Interface

from megalis_net.intent import DeviceIntent
from megalis_net.intent.model import MANAGEMENT_DESCRIPTION, Port, PortRole, SubInterface
from megalis_net.ipam import Allocations
from megalis_net.model import Network
from megalis_net.netbox.names import (
    L2VPN_TYPE,
    ROLE_BACKBONE_LINK,
    access_group,
    handoff_group,
    ref,
    slug,
)
from megalis_net.netbox.state import Builder, Ref


def interfaces(
    b: Builder, network: Network, allocations: Allocations, intents: Mapping[str, DeviceIntent]
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
                "description": MANAGEMENT_DESCRIPTION,
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


def _port(b: Builder, device: Ref, port: Port) -> Ref:
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
    b: Builder, device: Ref, parent: Ref, sub: SubInterface, vlan: Ref | None
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
    b: Builder,
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


def cables(b: Builder, network: Network, intents: Mapping[str, DeviceIntent]) -> None:
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


def backbone_prefixes(b: Builder, allocations: Allocations) -> None:
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


def l2vpns(b: Builder, network: Network, allocations: Allocations) -> None:
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
