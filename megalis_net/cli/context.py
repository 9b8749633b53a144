"""What every command shares: where the source of truth lives, and how to load it.

The source is the files (``topology/`` + ``inventory/``, the default) or NetBox
(``--source netbox`` or ``$MEGALIS_SOURCE``, with ``$MEGALIS_NETBOX_URL`` and
``$MEGALIS_NETBOX_TOKEN``): both give the same ``Network`` and ``Allocations``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import typer

from megalis_net.errors import UsageError
from megalis_net.ipam import Allocations, load_allocations
from megalis_net.loader import SITES_FILE, LoadedTopology, load_network, load_topology
from megalis_net.model import Network

# Relative to where the command runs; $MEGALIS_TOPOLOGY / $MEGALIS_INVENTORY override
# (read by the global options).
DEFAULT_TOPOLOGY = Path("topology")
DEFAULT_INVENTORY = Path("inventory")
# What commands remember between runs (the last verification...): $MEGALIS_STATE
DEFAULT_STATE = Path("state")
_NETBOX_MODEL = "megalis_net.netbox_model"


class Source(StrEnum):
    FILES = "files"
    NETBOX = "netbox"


@dataclass(frozen=True)
class Paths:
    topology: Path
    inventory: Path
    source: Source = Source.FILES

    @property
    def sites_file(self) -> Path:
        return self.inventory / SITES_FILE


def state_dir() -> Path:
    return Path(os.environ.get("MEGALIS_STATE") or DEFAULT_STATE)


def paths(ctx: typer.Context) -> Paths:
    found = ctx.find_object(Paths)
    return found if found is not None else Paths(DEFAULT_TOPOLOGY, DEFAULT_INVENTORY)


def _from_netbox(ctx: typer.Context) -> tuple[Network, Allocations]:
    """One read of NetBox per command: the model and the allocations come together."""
    meta = ctx.find_root().meta
    if _NETBOX_MODEL not in meta:
        from megalis_net.netbox import NetBox, Settings, load_from_netbox

        meta[_NETBOX_MODEL] = load_from_netbox(NetBox(Settings.from_env()))
    model: tuple[Network, Allocations] = meta[_NETBOX_MODEL]
    return model


def selected_devices(network: Network, devices: list[str] | None) -> list[str]:
    """``--devices`` (repeated or comma-separated) checked against the inventory; all by default."""
    known = {d.name for d in network.devices}
    wanted = sorted({n for item in devices or [] for n in item.split(",") if n}) or sorted(known)
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise UsageError(f"--devices: no router named {unknown[0]!r} in the inventory")
    return wanted


def files_only(ctx: typer.Context, command: str) -> None:
    """Commands that write the inventory files refuse to mix them with a NetBox model."""
    if paths(ctx).source is Source.NETBOX:
        raise UsageError(
            f"{command} writes the files in {paths(ctx).inventory}: run it with --source files,"
            " then `megalis-net netbox push`"
        )


def network(ctx: typer.Context) -> Network:
    where = paths(ctx)
    if where.source is Source.NETBOX:
        return _from_netbox(ctx)[0]
    return load_network(where.topology, where.inventory)


def allocations(ctx: typer.Context) -> Allocations:
    if paths(ctx).source is Source.NETBOX:
        return _from_netbox(ctx)[1]
    return load_allocations(paths(ctx).inventory)


def topology(ctx: typer.Context) -> LoadedTopology:
    if paths(ctx).source is Source.NETBOX:
        return LoadedTopology(_from_netbox(ctx)[0].topology, {})
    return load_topology(paths(ctx).topology)
