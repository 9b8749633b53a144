"""What every command shares: where the source of truth lives, and how to load it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

from megalis_net.ipam import Allocations, load_allocations
from megalis_net.loader import LoadedTopology, load_network, load_topology
from megalis_net.model import Network

# Relative to where the command runs; $MEGALIS_TOPOLOGY / $MEGALIS_INVENTORY override
# (read by the global options).
DEFAULT_TOPOLOGY = Path("topology")
DEFAULT_INVENTORY = Path("inventory")


@dataclass(frozen=True)
class Paths:
    topology: Path
    inventory: Path

    @property
    def sites_file(self) -> Path:
        return self.inventory / "sites.csv"


def paths(ctx: typer.Context) -> Paths:
    found = ctx.find_object(Paths)
    return found if found is not None else Paths(DEFAULT_TOPOLOGY, DEFAULT_INVENTORY)


def network(ctx: typer.Context) -> Network:
    where = paths(ctx)
    return load_network(where.topology, where.inventory)


def allocations(ctx: typer.Context) -> Allocations:
    return load_allocations(paths(ctx).inventory)


def topology(ctx: typer.Context) -> LoadedTopology:
    return load_topology(paths(ctx).topology)
