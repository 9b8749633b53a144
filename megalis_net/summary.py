"""A summary of the network for people: PoPs, links, sites per PoP and community."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from megalis_net.model import Community, Link, Network


@dataclass(frozen=True)
class PopSummary:
    name: str
    city: str
    departement: str
    role: str
    router: str
    upstreams: tuple[str, ...]
    sites_by_community: dict[str, int]
    committed_mbps: int

    @property
    def sites(self) -> int:
        return sum(self.sites_by_community.values())


@dataclass(frozen=True)
class NetworkSummary:
    pops: tuple[PopSummary, ...]
    links: tuple[Link, ...]
    devices: int
    sites: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "pops": [
                {
                    "name": p.name,
                    "city": p.city,
                    "departement": p.departement,
                    "role": p.role,
                    "router": p.router,
                    "upstreams": list(p.upstreams),
                    "sites": p.sites,
                    "sites_by_community": p.sites_by_community,
                    "committed_mbps": p.committed_mbps,
                }
                for p in self.pops
            ],
            "links": [link.model_dump(mode="json") for link in self.links],
            "devices": self.devices,
            "sites": self.sites,
        }


def summarise(network: Network) -> NetworkSummary:
    """Counts per PoP (sites by community, committed access rate) and the links."""
    topology = network.topology
    per_pop: Counter[tuple[str, str]] = Counter((s.pop, s.community.value) for s in network.sites)
    committed: Counter[str] = Counter()
    for site in network.sites:
        committed[site.pop] += site.rate_mbps
    routers = {d.pop: d.name for d in network.devices}
    pops = tuple(
        PopSummary(
            name=pop.name,
            city=pop.city,
            departement=pop.departement.value,
            role=pop.role.value,
            router=routers.get(pop.name, ""),
            upstreams=tuple(u.name for u in topology.upstreams if u.pop == pop.name),
            sites_by_community={c.value: per_pop[(pop.name, c.value)] for c in Community},
            committed_mbps=committed[pop.name],
        )
        for pop in topology.pops
    )
    return NetworkSummary(pops, topology.backbone_links, len(network.devices), len(network.sites))
