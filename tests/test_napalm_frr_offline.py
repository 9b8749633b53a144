"""The NAPALM FRR driver without a router: its pure helpers on outputs
recorded from FRR 8.4.4, and connection failures against loopback.

tests/fixtures/napalm_frr/: ``show-*.json`` / ``show-*.txt`` are what the
scratch router of the lab tests printed with base.conf loaded;
``reload-test.txt`` joins two ``frr-reload.py --test`` outputs (a small
change on that router, and site removals on pe-rennes).
"""

from __future__ import annotations

import json
import socket
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import napalm
import pytest
from napalm.base.exceptions import ConnectionException
from napalm.base.helpers import sanitize_config

from megalis_net.napalm_frr import FrrDriver, getters
from megalis_net.napalm_frr.driver import SANITIZE_FILTERS
from megalis_net.napalm_frr.onrouter import (
    candidate_form,
    deletion_entries,
    merge_additions,
    parse_reload_test,
    refused_lines,
    shorten,
)

ROOT = Path(__file__).resolve().parents[1]
RECORDED = Path(__file__).resolve().parent / "fixtures" / "napalm_frr"


def recorded(name: str) -> Any:
    text = (RECORDED / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


def test_napalm_finds_the_driver_by_platform_name() -> None:
    assert napalm.get_network_driver("frr") is FrrDriver


def test_installed_packages_are_the_packages_of_the_tree() -> None:
    """pyproject lists packages by hand (for the napalm_frr mapping): keep it complete."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = [
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "megalis_net").rglob("__init__.py")
    ]
    assert sorted(setuptools["packages"]) == sorted([*found, "napalm_frr"])
    assert setuptools["package-dir"] == {"napalm_frr": "megalis_net/napalm_frr"}


def test_running_config_in_candidate_form() -> None:
    running = recorded("show-running-config.txt")
    assert running.startswith("Building configuration...")
    assert candidate_form(running) == recorded("base.conf")


def test_reload_test_sections() -> None:
    diff = parse_reload_test(recorded("reload-test.txt"))
    assert diff.deletions[:2] == (
        "router bgp 64512",
        " no neighbor 10.255.0.2 description rr pe-brest",
    )
    assert len(diff.deletions) == 9
    assert diff.additions == (
        "no ip route 192.0.2.0/28 10.99.0.1",
        "router bgp 64512",
        " neighbor 10.255.0.2 description rr brest",
        "ip route 192.0.2.16/28 10.99.0.1",
    )
    assert not diff.empty
    assert parse_reload_test("").empty


def test_deletion_entries_one_per_command() -> None:
    entries = deletion_entries(parse_reload_test(recorded("reload-test.txt")).deletions)
    assert entries == [
        ["router bgp 64512", " no neighbor 10.255.0.2 description rr pe-brest"],
        ["router bgp 64512", " no neighbor 203.0.113.1 shutdown"],
        ["interface acc0.100", " no description"],  # FRR 8.4 refuses it with its text
        [
            "router bgp 65010",
            " address-family ipv4 vpn",
            "  no network 10.32.0.128/28  rd 10.0.0.5:101 label 1101 route-map VPN-EDUCATION",
        ],
    ]


@pytest.mark.parametrize(
    ("entry", "shorter"),
    [
        (
            ["router bgp 1", " no neighbor 10.0.0.1 shutdown"],
            ["router bgp 1", " no neighbor 10.0.0.1"],
        ),
        (["no ip route 10.0.0.0/8 blackhole"], ["no ip route 10.0.0.0/8"]),
        (["interface eth1", " no description"], None),
        (["no router"], None),
    ],
    ids=["context", "top-level", "two-words", "nothing-left"],
)
def test_shorten(entry: list[str], shorter: list[str] | None) -> None:
    assert shorten(entry) == shorter


def test_refused_lines() -> None:
    output = (
        "line 3015: % Unknown command[26]:   no network 10.32.0.128/28 rd 10.0.0.5:101\n"
        "line 3018: % Unknown command[26]:   no network 10.32.0.144/28 rd 10.0.0.5:101\n"
    )
    assert refused_lines(output) == [3015, 3018]
    assert refused_lines("") == []


def test_merge_additions_keep_the_running_static_routes() -> None:
    diff = parse_reload_test(recorded("reload-test.txt"))
    candidate = "ip route 192.0.2.16/28 10.99.0.1\n"
    assert "no ip route 192.0.2.0/28 10.99.0.1" not in merge_additions(diff, candidate)
    assert "ip route 192.0.2.16/28 10.99.0.1" in merge_additions(diff, candidate)


def test_facts() -> None:
    facts = getters.facts(recorded("show-version.txt"), 12.5, recorded("show-interface.json"))
    assert facts["hostname"] == "drv-router"
    assert facts["os_version"] == "FRRouting 8.4.4"
    assert facts["vendor"] == "FRRouting"
    assert facts["uptime"] == 12.5
    assert {"eth1", "eth2", "lo", "mgmt0"} <= set(facts["interface_list"])


def test_facts_refuses_an_unknown_version_banner() -> None:
    with pytest.raises(ValueError, match="unexpected show version"):
        getters.facts("Quagga 1.2\n", 0, {})


def test_interfaces() -> None:
    interfaces = getters.interfaces(recorded("show-interface.json"))
    assert interfaces["eth1"]["description"] == "ring to pe-vannes"
    assert interfaces["eth1"]["is_up"] and interfaces["eth1"]["is_enabled"]
    assert interfaces["eth1"]["speed"] == 10000.0
    assert interfaces["eth1"]["mtu"] == 1500
    assert interfaces["lo"]["description"] == ""


def test_interfaces_ip() -> None:
    addresses = getters.interfaces_ip(recorded("show-interface.json"))
    assert addresses["eth1"]["ipv4"] == {"10.99.0.0": {"prefix_length": 31}}
    assert addresses["lo"]["ipv4"] == {"10.255.0.1": {"prefix_length": 32}}
    assert all(length["prefix_length"] == 64 for length in addresses["eth1"]["ipv6"].values())
    assert "eth3" not in addresses or "ipv4" not in addresses["eth3"]


def test_bgp_neighbors() -> None:
    neighbors = getters.bgp_neighbors(
        recorded("show-bgp-summary.json"), recorded("show-bgp-neighbors.json")
    )
    assert neighbors["global"]["router_id"] == "10.255.0.1"
    reflector = neighbors["global"]["peers"]["10.255.0.2"]
    assert reflector["remote_as"] == reflector["local_as"] == 64512
    assert reflector["description"] == "rr pe-brest"
    assert reflector["is_enabled"] and not reflector["is_up"]
    assert reflector["address_family"]["ipv4"] == {
        "received_prefixes": 0,
        "accepted_prefixes": 0,
        "sent_prefixes": 0,
    }
    upstream = neighbors["global"]["peers"]["203.0.113.1"]
    assert upstream["remote_as"] == 3215 and not upstream["is_enabled"]


def test_bgp_neighbors_without_bgp() -> None:
    assert getters.bgp_neighbors({}, {}) == {}


@pytest.mark.parametrize(
    ("line", "sanitized"),
    [
        (" neighbor 10.0.0.1 password s3cret", " neighbor 10.0.0.1 password <removed>"),
        (" isis password md5 s3cret", " isis password md5 <removed>"),
        (" area-password clear s3cret", " area-password clear s3cret"),  # not an FRR 8.4 form
        ("password s3cret", "password <removed>"),
        (" ip ospf message-digest-key 1 md5 s3cret", " ip ospf message-digest-key 1 md5 <removed>"),
        (" description password rotation", " description password rotation"),
    ],
    ids=["bgp", "isis", "unrelated", "vty", "ospf", "description"],
)
def test_sanitize(line: str, sanitized: str) -> None:
    assert sanitize_config(f"{line}\n", SANITIZE_FILTERS) == f"{sanitized}\n"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word (no SSH banner)."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True)
    thread.start()
    yield server.getsockname()[1]
    for connection in accepted:
        connection.close()
    server.close()


def test_silent_host_times_out_naming_it(silent_port: int) -> None:
    driver = FrrDriver("127.0.0.1", "root", "", timeout=1, optional_args={"port": silent_port})
    started = time.monotonic()
    with pytest.raises(ConnectionException, match=rf"root@127\.0\.0\.1:{silent_port}") as error:
        driver.open()
    assert time.monotonic() - started < 10
    assert "\n" not in str(error.value)


def test_refused_port_names_the_host() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    driver = FrrDriver("127.0.0.1", "root", "", timeout=2, optional_args={"port": port})
    with pytest.raises(ConnectionException, match=r"127\.0\.0\.1.*cannot connect"):
        driver.open()
