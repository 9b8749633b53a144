"""What a migration touches outside the journal: the inventory files, and the
routers (how to reach them, their SNMP agents, and in the lab the sites'
own ends of their links)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from megalis_net import lab
from megalis_net.deploy import Target, lab_targets, production_targets
from megalis_net.intent import devices_of_site
from megalis_net.ipam import Allocations, load_allocations, save_allocations
from megalis_net.loader import SITES_FILE, load_network
from megalis_net.model import Network, Platform, SiteStatus
from megalis_net.sites import write_sites
from megalis_net.snmp import Agent, PollSettings
from megalis_net.verify import agents_for


@dataclass(frozen=True)
class Files:
    """The inventory a migration reads and writes (the source of truth)."""

    topology: Path
    inventory: Path

    @property
    def sites_file(self) -> Path:
        return self.inventory / SITES_FILE

    def load(self) -> tuple[Network, Allocations]:
        return load_network(self.topology, self.inventory), load_allocations(self.inventory)

    def save_allocations(self, allocations: Allocations) -> None:
        save_allocations(self.inventory, allocations)

    def set_status(self, network: Network, ids: Collection[str], status: SiteStatus) -> Network:
        """Write the sites of ``ids`` in ``status`` (atomically); the network as written."""
        changed = network.with_status(status, ids)
        write_sites(self.sites_file, changed.sites)
        return changed


@dataclass(frozen=True)
class Routers:
    """How a migration reaches the routers: production (the inventory's
    addresses and credentials) or the lab (its own, and the sites' links)."""

    inventory: Path
    in_lab: bool
    settings: PollSettings = field(default_factory=PollSettings)

    @property
    def platform(self) -> Platform | None:
        return Platform.FRR if self.in_lab else None

    def targets(self, network: Network, devices: Collection[str]) -> list[Target]:
        if self.in_lab:
            return lab_targets(sorted(devices))
        platforms = {d.name: d.platform.value for d in network.devices if d.name in devices}
        return production_targets(self.inventory, platforms)

    def agents(self, devices: Sequence[str]) -> list[Agent]:
        return agents_for(self.inventory, list(devices), self.in_lab)

    def attach(self, network: Network, allocations: Allocations) -> None:
        """The sites' ends of their links as ``network`` has them (lab only: a
        site's link exists once it is migrated, as its CPE would bring it up)."""
        if self.in_lab:
            lab.up(lab.plan_lab(network, allocations))


def routers_of(network: Network, sites: Collection[str]) -> dict[str, set[str]]:
    """{site: the routers that hold something of it} for ``sites``."""
    return {s.id: devices_of_site(network, s) for s in network.sites if s.id in sites}


def devices_of(network: Network, sites: Collection[str]) -> list[str]:
    """The routers that hold something of ``sites``."""
    return sorted(set().union(*routers_of(network, sites).values()))
