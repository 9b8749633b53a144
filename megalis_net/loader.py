"""Load the source of truth from files: ``topology/`` and ``inventory/``.

One entry point, ``load_network``: it parses every file, validates types and
cross-references, and either returns a complete ``Network`` or raises one
``InputError`` listing every problem with its file, line and field. Nothing
is half-loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from megalis_net import validate
from megalis_net.errors import InputError, Problem
from megalis_net.model import Device, Network, Site, Topology
from megalis_net.pydantic_errors import Loc, dotted, located_errors
from megalis_net.sites import read_sites
from megalis_net.yamlsource import YamlSource, load_yaml

# Each topology file and the top-level keys it may hold.
TOPOLOGY_FILES: dict[str, tuple[str, ...]] = {
    "pops.yaml": ("ring", "pops"),
    "links.yaml": ("srlgs", "links"),
    "upstreams.yaml": ("upstreams", "providers"),
    "services.yaml": ("vpns", "l2_services"),
    "pools.yaml": ("pools",),
    "policy.yaml": ("policy", "traffic"),
    "routing.yaml": ("routing",),
    "management.yaml": ("management",),
}
SITES_FILE = "sites.csv"
HOSTS_FILE = "hosts.yaml"
GROUPS_FILE = "groups.yaml"


@dataclass(frozen=True)
class LoadedTopology:
    """A validated topology, with the sources kept for locating later errors."""

    topology: Topology
    sources: dict[str, YamlSource]

    def problem(self, loc: Loc, message: str) -> Problem:
        source = self.sources[str(loc[0])]
        return source.problem(loc, dotted(loc), message)


def _read_topology_sources(directory: Path) -> tuple[dict[str, YamlSource], list[Problem]]:
    sources: dict[str, YamlSource] = {}
    problems: list[Problem] = []
    for filename, keys in TOPOLOGY_FILES.items():
        try:
            source = load_yaml(directory / filename)
        except InputError as exc:
            problems += exc.problems
            continue
        data = source.tree
        if not isinstance(data, dict):
            problems.append(
                source.problem((), "", f"expected a mapping with keys {', '.join(keys)}")
            )
            continue
        for key in data:
            if key not in keys:
                allowed = ", ".join(keys)
                problems.append(
                    source.problem((key,), str(key), f"unknown key (this file holds {allowed})")
                )
            else:
                sources[key] = source
    return sources, problems


def load_topology(directory: Path) -> LoadedTopology:
    """Parse and validate ``topology/``; raises InputError with every problem."""
    sources, problems = _read_topology_sources(directory)
    if problems:
        raise InputError(problems)
    raw = {key: source.data[key] for key, source in sources.items()}
    try:
        topology = Topology.model_validate(raw)
    except ValidationError as exc:
        raise InputError(_locate(sources, located_errors(exc), directory)) from exc
    loaded = LoadedTopology(topology, sources)
    problems = [loaded.problem(loc, msg) for loc, msg in validate.check_topology(topology)]
    if problems:
        raise InputError(problems)
    return loaded


def _locate(
    sources: dict[str, YamlSource], errors: Iterable[tuple[Loc, str]], directory: Path
) -> list[Problem]:
    problems = []
    for loc, message in errors:
        source = sources.get(str(loc[0])) if loc else None
        if source is None:
            owner = next((f for f, keys in TOPOLOGY_FILES.items() if loc and loc[0] in keys), "")
            problems.append(Problem(str(directory / owner), None, dotted(loc), message))
        else:
            problems.append(source.problem(loc, dotted(loc), message))
    return problems


def _platform_of(host: dict[str, Any], groups: dict[str, Any]) -> Any:
    if host.get("platform"):
        return host["platform"]
    for group in host.get("groups") or []:
        platform = (groups.get(group) or {}).get("platform")
        if platform:
            return platform
    return None


def _device_fields(name: str, host: Any, groups: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(host, dict):
        return {"name": name}
    data = host.get("data") or {}
    return {
        "name": name,
        "pop": data.get("pop") if isinstance(data, dict) else None,
        "platform": _platform_of(host, groups),
        "mgmt_address": host.get("hostname"),
    }


def load_devices(directory: Path) -> tuple[list[Device], YamlSource, list[Problem]]:
    """Read the Nornir hosts and groups files into Device objects."""
    hosts = load_yaml(directory / HOSTS_FILE)
    groups = load_yaml(directory / GROUPS_FILE).data or {}
    devices: list[Device] = []
    problems: list[Problem] = []
    if not isinstance(hosts.tree, dict):
        raise InputError([hosts.problem((), "", "expected a mapping of host name to host")])
    for name, host in hosts.data.items():
        fields = _device_fields(str(name), host, groups if isinstance(groups, dict) else {})
        try:
            devices.append(Device.model_validate(fields))
        except ValidationError as exc:
            for loc, message in located_errors(exc):
                field = _HOST_FIELD.get(str(loc[0]), str(loc[0])) if loc else ""
                problems.append(
                    hosts.problem((name, *_HOST_LOC.get(field, ())), f"{name}.{field}", message)
                )
    return devices, hosts, problems


_HOST_FIELD = {
    "mgmt_address": "hostname",
    "pop": "data.pop",
    "platform": "platform",
    "name": "name",
}
_HOST_LOC: dict[str, Loc] = {"hostname": ("hostname",), "data.pop": ("data", "pop")}


def load_network(topology_dir: Path, inventory_dir: Path) -> Network:
    """Load and validate everything; raises InputError listing every problem."""
    problems: list[Problem] = []
    loaded: LoadedTopology | None = None
    try:
        loaded = load_topology(topology_dir)
    except InputError as exc:
        problems += exc.problems
    try:
        devices, hosts, device_problems = load_devices(inventory_dir)
    except InputError as exc:
        raise InputError(problems + exc.problems) from exc
    problems += device_problems
    site_path = inventory_dir / SITES_FILE
    sites, site_lines, site_problems = read_sites(site_path)
    problems += site_problems
    if loaded is not None:
        problems += _cross_check(loaded.topology, devices, hosts, sites, site_lines, site_path)
    if problems or loaded is None:
        raise InputError(problems)
    return Network(topology=loaded.topology, devices=tuple(devices), sites=tuple(sites))


def _cross_check(
    topology: Topology,
    devices: list[Device],
    hosts: YamlSource,
    sites: list[Site],
    site_lines: dict[str, int],
    site_path: Path,
) -> list[Problem]:
    problems = []
    for name, field, message in validate.check_devices(topology, devices):
        loc = (name, *_HOST_LOC.get(field, ()))
        problems.append(hosts.problem(loc, f"{name}.{field}" if name else field, message))
    for site_id, column, message in validate.check_sites(topology, sites):
        problems.append(Problem(str(site_path), site_lines.get(site_id), column, message))
    return problems
