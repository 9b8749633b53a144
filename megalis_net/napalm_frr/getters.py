"""FRR's JSON outputs to NAPALM's getter structures (pure functions).

Inputs are what ``vtysh -c '... json'`` prints on FRR 8.4; outputs follow
``napalm.base.models``.
"""

from __future__ import annotations

import re
from typing import Any

from napalm.base.helpers import mac

# vtysh's names for BGP address families; NAPALM's documented ones are ipv4/ipv6.
ADDRESS_FAMILIES = {
    "ipv4Unicast": "ipv4",
    "ipv6Unicast": "ipv6",
    "ipv4Vpn": "vpnv4",
    "ipv6Vpn": "vpnv6",
}
VERSION = re.compile(
    r"^FRRouting (?P<version>\S+) \((?P<hostname>[^)]*)\) on (?P<os>[^(]+)\((?P<kernel>[^)]*)\)"
)


def facts(show_version: str, uptime: float, interfaces: dict[str, Any]) -> dict[str, Any]:
    """NAPALM facts from ``show version``, zebra's age and ``show interface json``.

    Examples:
        >>> f = facts("FRRouting 8.4.4 (pe-brest) on Linux(6.1.0).\\n", 12.0, {"lo": {}})
        >>> f["hostname"], f["os_version"], f["model"], f["interface_list"]
        ('pe-brest', 'FRRouting 8.4.4', 'Linux 6.1.0', ['lo'])
    """
    found = VERSION.match(show_version)
    if found is None:
        raise ValueError(f"unexpected show version output: {show_version[:80]!r}")
    return {
        "uptime": uptime,
        "vendor": "FRRouting",
        "model": f"{found['os'].strip()} {found['kernel']}",
        "hostname": found["hostname"],
        "fqdn": found["hostname"],
        "os_version": f"FRRouting {found['version']}",
        "serial_number": "",
        "interface_list": sorted(interfaces),
    }


def process_uptime(proc: str) -> float:
    """Seconds a process has run, from ``/proc/uptime``, ``/proc/PID/stat`` and CLK_TCK.

    Examples:
        >>> process_uptime("1000.50 1900.00\\n42 (zebra) S 1 " + "0 " * 17 + "90000 0\\n100\\n")
        100.5
    """
    uptime, stat, ticks = proc.splitlines()[:3]
    fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold spaces
    started = int(fields[19]) / int(ticks)  # field 22 of stat, the start time in ticks
    return round(float(uptime.split()[0]) - started, 2)


def interfaces(show_interface: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """NAPALM interfaces from ``show interface json``.

    FRR 8.4 gives no flap time in a usable form: ``last_flapped`` is -1.0.

    Examples:
        >>> interfaces({"eth1": {"administrativeStatus": "up", "operationalStatus": "down",
        ...   "description": "ring", "mtu": 1500, "speed": 10000,
        ...   "hardwareAddress": "32:42:f8:87:96:29"}})["eth1"]["mac_address"]
        '32:42:F8:87:96:29'
    """
    return {
        name: {
            "is_up": state.get("operationalStatus") == "up",
            "is_enabled": state.get("administrativeStatus") == "up",
            "description": state.get("description", ""),
            "last_flapped": -1.0,
            "mtu": int(state.get("mtu", 0)),
            "speed": float(state.get("speed", 0)),
            "mac_address": mac(state["hardwareAddress"]) if state.get("hardwareAddress") else "",
        }
        for name, state in show_interface.items()
    }


def interfaces_ip(show_interface: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """NAPALM interface addresses from ``show interface json`` (link-local included).

    Examples:
        >>> interfaces_ip({"eth1": {"ipAddresses": [{"address": "10.0.0.0/31"},
        ...   {"address": "fe80::1/64"}]}, "eth2": {"ipAddresses": []}})
        {'eth1': {'ipv4': {'10.0.0.0': {'prefix_length': 31}}, 'ipv6': {'fe80::1': {'prefix_length': 64}}}}
    """
    result: dict[str, dict[str, Any]] = {}
    for name, state in show_interface.items():
        for entry in state.get("ipAddresses", []):
            address, length = entry["address"].split("/")
            family = "ipv6" if ":" in address else "ipv4"
            result.setdefault(name, {}).setdefault(family, {})[address] = {
                "prefix_length": int(length)
            }
    return result


def bgp_neighbors(summary: dict[str, Any], neighbors: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """NAPALM BGP neighbors from ``show bgp vrf all summary json`` and ``... neighbors json``.

    The default VRF is ``global``; received and accepted prefixes are both
    FRR's ``pfxRcd`` (what was kept after the inbound policy).
    """
    result: dict[str, dict[str, Any]] = {}
    for vrf, families in summary.items():
        name = "global" if vrf == "default" else vrf
        entry = result.setdefault(name, {"router_id": "", "peers": {}})
        for family, table in families.items():
            if not isinstance(table, dict) or "peers" not in table:
                continue
            entry["router_id"] = table.get("routerId", entry["router_id"])
            for address, peer in table["peers"].items():
                state = entry["peers"].setdefault(
                    address, bgp_peer(peer, neighbors.get(vrf, {}).get(address, {}))
                )
                state["address_family"][ADDRESS_FAMILIES.get(family, family)] = {
                    "received_prefixes": int(peer.get("pfxRcd", 0)),
                    "accepted_prefixes": int(peer.get("pfxRcd", 0)),
                    "sent_prefixes": int(peer.get("pfxSnt", 0)),
                }
    return result


def bgp_peer(peer: dict[str, Any], detail: dict[str, Any]) -> dict[str, Any]:
    """One peer's session state, without its address families."""
    return {
        "local_as": int(peer.get("localAs", 0)),
        "remote_as": int(peer.get("remoteAs", 0)),
        "remote_id": detail.get("remoteRouterId", ""),
        "is_up": peer.get("state") == "Established",
        "is_enabled": peer.get("peerState") != "Admin",
        "description": peer.get("desc", ""),
        "uptime": int(peer.get("peerUptimeMsec", 0)) // 1000,
        "address_family": {},
    }
