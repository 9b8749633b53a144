"""NetBox -> the same ``Network`` and ``Allocations`` the files give.

The inverse of ``desired``: only objects carrying the ownership tag are read;
the model is validated as the file loader validates it (pydantic types, then
``validate`` cross-checks), and every problem names the NetBox object.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any, TypeVar

from pydantic import ValidationError

from megalis_net import validate
from megalis_net.errors import InputError, Problem
from megalis_net.ipam import Allocations, SiteAllocation
from megalis_net.model import Device, Network, Site, SiteStatus, Topology
from megalis_net.netbox import names as d
from megalis_net.netbox.client import NetBox
from megalis_net.netbox.plan import owned
from megalis_net.netbox.read import Snapshot, read_snapshot
from megalis_net.netbox.state import Fields, Key, Ref
from megalis_net.pydantic_errors import located_errors

T = TypeVar("T")


def load_from_netbox(netbox: NetBox) -> tuple[Network, Allocations]:
    """Read NetBox once and rebuild the model and the allocations from it."""
    return network_from(read_snapshot(netbox), netbox.settings.url)


class _View:
    """The owned objects of a snapshot, with small lookups."""

    def __init__(self, snapshot: Snapshot, url: str) -> None:
        self.state = {
            endpoint: {k: f for k, f in objects.items() if owned(f, d.TAG)}
            for endpoint, objects in snapshot.state.items()
        }
        self.url = url
        self.problems: list[Problem] = []

    def objects(self, endpoint: str) -> Iterator[tuple[Key, Fields]]:
        yield from sorted(self.state[endpoint].items())

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(self.url, None, where, message))

    def build(self, where: str, make: Callable[[], T]) -> T | None:
        """Validate one object; a problem is recorded (not raised) so that all are reported."""
        try:
            return make()
        except ValidationError as exc:
            for loc, message in located_errors(exc):
                self.problem(f"{where}.{'.'.join(map(str, loc))}", message)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            self.problem(where, f"unreadable: {exc!r}")
        return None


def _cf(fields: Fields, name: str) -> Any:
    return (fields.get("custom_fields") or {}).get(name)


def _slug(value: Any) -> str:
    return value.key[0] if isinstance(value, Ref) else ""


def _position(item: tuple[Key, Fields]) -> tuple[int, Key]:
    position = _cf(item[1], "megalis_position")
    return (position if isinstance(position, int) else 1 << 30, item[0])


def _split(text: Any) -> list[str]:
    return [part for part in str(text or "").split(",") if part]


def _terminations(view: _View) -> dict[str, dict[str, str]]:
    """cid -> side -> PoP name (or site id slug for an access circuit's Z side)."""
    ends: dict[str, dict[str, str]] = {}
    for (cid, side), fields in view.objects("circuits.circuit-terminations"):
        site = _slug(fields.get("termination"))
        ends.setdefault(cid, {})[side] = site.removeprefix(d.POP_PREFIX)
    return ends


def network_from(snapshot: Snapshot, url: str) -> tuple[Network, Allocations]:
    view = _View(snapshot, url)
    topology = _topology(view)
    devices = _devices(view)
    allocations = _allocations(view)
    sites = _sites(view, allocations)
    if topology is not None:
        for name, field, message in validate.check_devices(topology, devices):
            view.problem(f"devices {name}.{field}", message)
        for site_id, column, message in validate.check_sites(topology, sites):
            view.problem(f"sites {site_id}.{column}", message)
    if view.problems or topology is None:
        if not view.problems:
            view.problem("config-contexts", f"no {d.CONTEXT!r} config context: push first")
        raise InputError(view.problems)
    return Network(topology=topology, devices=tuple(devices), sites=tuple(sites)), allocations


def _topology(view: _View) -> Topology | None:
    context = view.state["extras.config-contexts"].get((d.CONTEXT,))
    if context is None:
        return None
    ends = _terminations(view)
    circuits = sorted(view.objects("circuits.circuits"), key=_position)
    raw = dict(context.get("data") or {})
    raw["pops"] = [
        _pop(f)
        for k, f in sorted(view.objects("dcim.sites"), key=_position)
        if _slug(f.get("group")) == d.POP_GROUP
    ]
    raw["links"] = [
        _link(k[0], f, ends) for k, f in circuits if _slug(f.get("type")) in d.LINK_TYPES
    ]
    raw["upstreams"] = [
        _upstream(k[0], f, ends) for k, f in circuits if _slug(f.get("type")) == d.UPSTREAM_TYPE
    ]
    raw["providers"] = [
        _provider(k[0], f) for k, f in sorted(view.objects("circuits.providers"), key=_position)
    ]
    raw["vpns"] = [
        _vpn(k[0], f, view)
        for k, f in sorted(view.objects("ipam.vrfs"), key=_position)
        if f.get("tenant") is not None
    ]
    topology = view.build("config-contexts megalis-net", lambda: Topology.model_validate(raw))
    if topology is not None:
        for loc, message in validate.check_topology(topology):
            view.problem(".".join(map(str, loc)), message)
    return topology


def _pop(f: Fields) -> dict[str, Any]:
    return {
        "name": str(f.get("slug", "")).removeprefix(d.POP_PREFIX),
        "city": f.get("facility"),
        "departement": _slug(f.get("region")).removeprefix("fr-"),
        "latitude": f.get("latitude"),
        "longitude": f.get("longitude"),
        "role": _cf(f, "megalis_pop_role"),
        "access_ports": _cf(f, "megalis_access_ports"),
    }


def _kbps_to_mbps(rate: Any) -> int | None:
    return int(rate) // 1000 if rate is not None else None


def _link(cid: str, f: Fields, ends: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {
        "name": cid,
        "a": ends.get(cid, {}).get("A"),
        "b": ends.get(cid, {}).get("Z"),
        "role": _slug(f.get("type")),
        "capacity_mbps": _kbps_to_mbps(f.get("commit_rate")),
        "metric": _cf(f, "megalis_metric"),
        "srlgs": _split(_cf(f, "megalis_srlgs")),
        "provider": _slug(f.get("provider")),
    }


def _upstream(cid: str, f: Fields, ends: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {
        "name": cid,
        "kind": _cf(f, "megalis_upstream_kind"),
        "preference": _cf(f, "megalis_preference"),
        "provider": _slug(f.get("provider")),
        "pop": ends.get(cid, {}).get("A"),
        "capacity_mbps": _kbps_to_mbps(f.get("commit_rate")),
        "srlgs": _split(_cf(f, "megalis_srlgs")),
    }


def _provider(slug: str, f: Fields) -> dict[str, Any]:
    return {
        "name": slug,
        "display_name": f.get("name"),
        "lots": _split(_cf(f, "megalis_lots")),
        "asn": _cf(f, "megalis_asn"),
    }


def _vpn(name: str, f: Fields, view: _View) -> dict[str, Any]:
    context = view.state["extras.config-contexts"][(d.CONTEXT,)]
    extranets = (context.get("data") or {}).get("routing", {}).get("extranets", {})
    imports = {r.key[0] for r in f.get("import_targets") or []}
    exports = [r.key[0] for r in f.get("export_targets") or []]
    number = int(exports[0].rsplit(":", 1)[1]) if len(exports) == 1 else None

    def imported(kind: str) -> bool:
        return any(t.rsplit(":", 1)[1] == str(extranets.get(kind)) for t in imports)

    return {
        "community": name,
        "description": f.get("description"),
        "vpn_id": number,
        "internet": imported("internet"),
        "renater": imported("renater"),
    }


def _devices(view: _View) -> list[Device]:
    devices = []
    for (name,), f in sorted(view.objects("dcim.devices"), key=_position):
        primary = f.get("primary_ip4")
        address = primary.key[1] if isinstance(primary, Ref) else None

        def make(name: str = name, f: Fields = f, address: str | None = address) -> Device:
            return Device(
                name=name,
                pop=_slug(f.get("site")).removeprefix(d.POP_PREFIX),
                platform=_slug(f.get("platform")),
                mgmt_address=IPv4Interface(address).ip if address else None,
            )

        device = view.build(f"devices {name}", make)
        if device is not None:
            devices.append(device)
    return devices


def _sites(view: _View, allocations: Allocations) -> list[Site]:
    """Establishments; each one's PoP is where its access VLAN is (pushed models are allocated)."""
    pops = {site_id: alloc.pop for site_id, alloc in allocations.sites.items()}
    rates = {
        d.slug(cid): _kbps_to_mbps(f.get("commit_rate"))
        for (cid,), f in view.objects("circuits.circuits")
        if _slug(f.get("type")) == d.ACCESS_TYPE
    }
    sites = []
    for (slug,), f in view.objects("dcim.sites"):
        if _slug(f.get("group")) == d.POP_GROUP:
            continue
        site = view.build(f"sites {f.get('name')}", partial(_site, slug, f, pops, rates))
        if site is not None:
            sites.append(site)
    return sorted(sites, key=lambda s: s.id)


def _site(slug: str, f: Fields, pops: dict[str, str], rates: dict[str, int | None]) -> Site:
    site_id = str(f.get("name"))
    lan = _cf(f, "megalis_legacy_lan")
    legacy = (
        {
            "lan_prefix": lan,
            "gateway": _cf(f, "megalis_legacy_gateway"),
            "rate_kbps": _cf(f, "megalis_legacy_rate_kbps"),
        }
        if lan
        else None
    )
    return Site.model_validate(
        {
            "id": site_id,
            "name": f.get("description"),
            "kind": _slug(f.get("group")),
            "commune": f.get("physical_address"),
            "departement": _slug(f.get("region")).removeprefix("fr-"),
            "latitude": f.get("latitude"),
            "longitude": f.get("longitude"),
            "pop": pops.get(site_id),
            "community": _slug(f.get("tenant")),
            "rate_mbps": rates.get(slug),
            "l2_renater": bool(_cf(f, "megalis_l2_renater")),
            "legacy": legacy,
            "status": SiteStatus.LEGACY if f.get("status") == "planned" else SiteStatus.ACTIVE,
        }
    )


def _allocations(view: _View) -> Allocations:
    loopbacks: dict[str, IPv4Address] = {}
    for (_, address), f in view.objects("ipam.ip-addresses"):
        owner = f.get("assigned_object")
        if f.get("role") == "loopback" and isinstance(owner, Ref):
            loopbacks[owner.key[0]] = IPv4Interface(address).ip
    links: dict[str, IPv4Network] = {}
    site_nets: dict[str, dict[str, IPv4Network]] = {}
    for (_, prefix), f in view.objects("ipam.prefixes"):
        role = _slug(f.get("role"))
        if role == d.ROLE_BACKBONE_LINK:
            links[str(f.get("description"))] = IPv4Network(prefix)
        elif role in (d.ROLE_SITE_LINK, d.ROLE_SITE_LAN):
            site_nets.setdefault(str(f.get("description")), {})[role] = IPv4Network(prefix)
    vlans: dict[str, dict[str, tuple[str, int]]] = {}
    for (group, name), f in view.objects("ipam.vlans"):
        role = _slug(f.get("role"))
        site_id = name.removesuffix("-l2") if role == d.ROLE_L2_VLAN else name
        vlans.setdefault(site_id, {})[role] = (group, int(f.get("vid") or 0))
    sites: dict[str, SiteAllocation] = {}
    for site_id, mine in sorted(vlans.items()):
        made = view.build(
            f"vlans {site_id}", partial(_site_allocation, site_id, mine, site_nets.get(site_id, {}))
        )
        if made is not None:
            sites[site_id] = made
    return Allocations(loopbacks, links, sites)


def _site_allocation(
    site_id: str, vlans: dict[str, tuple[str, int]], nets: dict[str, IPv4Network]
) -> SiteAllocation:
    group, vid = vlans[d.ROLE_SITE_VLAN]
    pop, port = group.removeprefix("access-").rsplit("-", 1)
    l2 = vlans.get(d.ROLE_L2_VLAN)
    handoff = vlans.get(d.ROLE_HANDOFF_VLAN)
    return SiteAllocation(
        site=site_id,
        pop=pop,
        port=int(port),
        vlan=vid,
        link_net=nets[d.ROLE_SITE_LINK],
        lan=nets[d.ROLE_SITE_LAN],
        l2_vlan=l2[1] if l2 else None,
        handoff_vlan=handoff[1] if handoff else None,
    )
