"""Add, remove and show one site connection: allocation, records and config diffs.

``add_site`` and ``remove_site`` are pure: they return the new state and the
diff of every router config it changes, and ``commit`` writes it. So a bad
request or a failed render changes nothing on disk.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from pathlib import Path

from megalis_net.errors import UsageError
from megalis_net.geo import find_commune
from megalis_net.intent import DeviceIntent, build_intents, devices_of_site
from megalis_net.ipam import Allocations, SiteAllocation, allocate, save_allocations
from megalis_net.model import Community, Departement, Network, Site, SiteKind
from megalis_net.render import config_filename, render_device
from megalis_net.sites import write_sites

NEW_SITE_PREFIX = "MEG2-"
DEFAULT_KIND = {
    Community.EDUCATION: SiteKind.COLLEGE,
    Community.HEALTH: SiteKind.HOPITAL,
    Community.RESEARCH: SiteKind.LABORATOIRE,
    Community.LOCAL_GOVERNMENT: SiteKind.MAIRIE,
}
_RATE = re.compile(r"^\s*(\d+)\s*([MmGg]?)(?:b(?:it)?(?:/s|ps)?)?\s*$")


def parse_rate(text: str) -> int:
    """A rate as engineers write it, in Mb/s.

    Examples:
        >>> parse_rate("100M"), parse_rate("1G"), parse_rate("20"), parse_rate("2 Mb/s")
        (100, 1000, 20, 2)
        >>> parse_rate("fast")
        Traceback (most recent call last):
        megalis_net.errors.UsageError: --rate: 'fast' is not a rate (write 100M, 1G or 20)
    """
    match = _RATE.match(text)
    if not match:
        raise UsageError(f"--rate: {text!r} is not a rate (write 100M, 1G or 20)")
    number, unit = int(match[1]), match[2].upper()
    return number * 1000 if unit == "G" else number


@dataclass(frozen=True)
class SiteRequest:
    name: str
    pop: str
    community: Community
    rate: str
    l2_renater: bool = False
    kind: SiteKind | None = None
    commune: str | None = None


@dataclass(frozen=True)
class Change:
    """A new state of sites and allocations, and what it does to the routers."""

    network: Network
    allocations: Allocations
    site: Site
    allocation: SiteAllocation
    diffs: dict[str, str]  # device name -> unified diff of its config


def _check_request(network: Network, request: SiteRequest) -> int:
    topology = network.topology
    pops = [p.name for p in topology.pops]
    if request.pop not in pops:
        raise UsageError(f"--pop: unknown PoP {request.pop!r} (one of {', '.join(pops)})")
    if request.community not in {v.community for v in topology.vpns}:
        raise UsageError(f"--community: no VPN for community {request.community.value!r}")
    rate = parse_rate(request.rate)
    offered = topology.traffic.offered_rates_mbps
    if rate not in offered:
        listed = ", ".join(f"{r}M" for r in offered)
        raise UsageError(f"--rate: {rate} Mb/s is not an offered rate ({listed})")
    name = request.name.strip()
    if not name:
        raise UsageError("--name: a site needs a name")
    taken = next((s for s in network.sites if s.name.casefold() == name.casefold()), None)
    if taken is not None:
        raise UsageError(f"--name: site {taken.id} is already named {taken.name!r}")
    l2 = {s.community for s in topology.l2_services}
    if request.l2_renater and request.community not in l2:
        raise UsageError(f"--l2-renater: no L2 service for community {request.community.value!r}")
    return rate


def _next_id(network: Network) -> str:
    numbers = [
        int(s.id[len(NEW_SITE_PREFIX) :])
        for s in network.sites
        if s.id.startswith(NEW_SITE_PREFIX) and s.id[len(NEW_SITE_PREFIX) :].isdigit()
    ]
    return f"{NEW_SITE_PREFIX}{max(numbers, default=0) + 1:05d}"


def _place(network: Network, request: SiteRequest) -> tuple[str, Departement, float, float]:
    pop = network.topology.pop(request.pop)
    if request.commune is None:
        return pop.city, pop.departement, pop.latitude, pop.longitude
    for departement in Departement:
        commune = find_commune(request.commune, departement)
        if commune is not None:
            return commune.name, departement, commune.latitude, commune.longitude
    raise UsageError(f"--commune: no Breton commune named {request.commune!r}")


def new_site(network: Network, request: SiteRequest) -> Site:
    rate = _check_request(network, request)
    commune, departement, latitude, longitude = _place(network, request)
    return Site(
        id=_next_id(network),
        name=request.name.strip(),
        kind=request.kind or DEFAULT_KIND[request.community],
        commune=commune,
        departement=departement,
        latitude=latitude,
        longitude=longitude,
        pop=request.pop,
        community=request.community,
        rate_mbps=rate,
        l2_renater=request.l2_renater,
    )


def config_diffs(before: dict[str, DeviceIntent], after: dict[str, DeviceIntent]) -> dict[str, str]:
    """Unified diff of each router whose intent changed (the others render the same)."""
    diffs = {}
    for name, intent in after.items():
        old = before.get(name)
        if old == intent:
            continue
        old_text = render_device(old).splitlines(keepends=True) if old else []
        new_text = render_device(intent).splitlines(keepends=True)
        filename = config_filename(intent)
        diff = "".join(difflib.unified_diff(old_text, new_text, f"a/{filename}", f"b/{filename}"))
        if diff:  # a platform may not render what changed (FRR has no pseudowires)
            diffs[name] = diff
    return diffs


def add_site(network: Network, allocations: Allocations, request: SiteRequest) -> Change:
    site = new_site(network, request)
    grown = network.model_copy(update={"sites": (*network.sites, site)})
    report = allocate(grown, allocations)
    touched = devices_of_site(grown, site)
    diffs = config_diffs(
        build_intents(network, allocations, devices=touched),
        build_intents(grown, report.allocations, devices=touched),
    )
    return Change(grown, report.allocations, site, report.allocations.sites[site.id], diffs)


def find_site(network: Network, key: str) -> Site:
    """A site by id, or by its exact name (case-insensitive)."""
    for site in network.sites:
        if site.id == key or site.name.casefold() == key.casefold():
            return site
    raise UsageError(f"no site with id or name {key!r}")


def remove_site(network: Network, allocations: Allocations, key: str) -> Change:
    """Remove the site and free everything allocated to it."""
    site = find_site(network, key)
    shrunk = network.model_copy(
        update={"sites": tuple(s for s in network.sites if s.id != site.id)}
    )
    freed = replace(allocations, sites={k: v for k, v in allocations.sites.items() if k != site.id})
    touched = devices_of_site(network, site)
    diffs = config_diffs(
        build_intents(network, allocations, devices=touched),
        build_intents(shrunk, freed, devices=touched),
    )
    return Change(shrunk, freed, site, allocations.sites[site.id], diffs)


def commit(change: Change, inventory: Path, sites_file: Path) -> None:
    """Write allocations, then sites, each atomically.

    In that order because an allocation without its site is harmless (it
    stays reserved until released), while a site without an allocation
    would render nothing until the next ``allocate``.
    """
    save_allocations(inventory, change.allocations)
    write_sites(sites_file, change.network.sites)
