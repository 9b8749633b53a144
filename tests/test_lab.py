"""``lab up|down|status`` on this machine: real namespaces, FRR, sshd, snmpd."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from megalis_net.lab import access
from megalis_net.lab.system import addresses, links, namespaces
from tests.conftest import LabModel, lab_model, require_lab_machine

pytestmark = pytest.mark.lab

LAB_ROUTERS = ("mgx-pe-", "mgx-france-telecom", "mgx-neuf-cegetel", "mgx-renater")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabModel]:
    require_lab_machine()
    model = lab_model(tmp_path_factory.mktemp("lab"))
    yield model
    model.cli("lab", "down", check=False)


def status(model: LabModel) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(model.cli("lab", "status", "--json").stdout)
    return rows


def pids() -> set[str]:
    """Every lab daemon's PID file and PID, to tell a restart from a no-op."""
    found: set[str] = set()
    routers = [netns for netns in namespaces() if netns.startswith(LAB_ROUTERS)]
    for path in (p for netns in routers for p in Path("/var/run/frr", netns).glob("*.pid")):
        found.add(f"{path}:{path.read_text().strip()}")
    for path in Path("/run/megalis-net/lab").glob("*/*.pid"):
        found.add(f"{path}:{path.read_text().strip()}")
    return found


def test_up_builds_every_router_with_its_daemons(model: LabModel) -> None:
    model.cli("lab", "up")
    rows = status(model)
    kinds = [row["kind"] for row in rows]
    assert kinds.count("pe") == 8 and kinds.count("upstream") == 3 and kinds.count("access") == 8
    for row in rows:
        assert row["present"]
        assert sorted(row["daemons"]) == sorted(row["expected"])
    rennes = next(row for row in rows if row["name"] == "pe-rennes")
    assert rennes["address"] == "198.18.0.1"
    assert set(rennes["daemons"]) == {
        "watchfrr", "zebra", "bgpd", "isisd", "staticd", "sshd", "snmpd"
    }  # fmt: skip


def test_site_attachments_are_veths_named_after_the_vlan(model: LabModel) -> None:
    network, allocations = model.network()
    for site in network.sites:
        alloc = allocations.sites[site.id]
        name = f"acc{alloc.port}.{alloc.vlan}"
        assert name in links(f"mgx-pe-{site.pop}")
        far = links(f"mgx-acc-{site.pop}")[name]
        assert f"{alloc.site_address}/31" in addresses(far)


def test_each_router_has_its_own_hostname_over_ssh(model: LabModel) -> None:
    for host, router in access().items():
        result = subprocess.run(
            ["ssh", "-i", str(router.key_file), "-o", "BatchMode=yes",
             "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
             "-o", "ConnectTimeout=5", f"root@{router.address}",
             "hostname; vtysh -c 'show running-config' | grep ^hostname"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [host, "hostname", host]


def test_snmpd_answers_on_the_management_address_with_model_speeds(model: LabModel) -> None:
    rennes = access()["pe-rennes"]
    names = snmpwalk(rennes.address, rennes.snmp_community, ".1.3.6.1.2.1.31.1.1.1.1")
    speeds = snmpwalk(rennes.address, rennes.snmp_community, ".1.3.6.1.2.1.31.1.1.1.15")
    by_name = {name: speeds[index] for index, name in names.items()}
    assert by_name["bb0"] == "2000"  # ring link, as the model says (a veth says 10000)
    assert by_name["up0"] == "2000"
    wrong = subprocess.run(
        ["snmpget", "-v2c", "-c", "wrong", "-t", "0.5", "-r", "0", rennes.address,
         ".1.3.6.1.2.1.1.5.0"],
        capture_output=True, text=True, env={"MIBS": ""}, check=False,
    )  # fmt: skip
    assert wrong.returncode != 0  # a wrong community gets nothing


def snmpwalk(address: str, community: str, oid: str) -> dict[str, str]:
    """Values of one column by index, as net-snmp walks them."""
    indexed = subprocess.run(
        ["snmpbulkwalk", "-v2c", "-c", community, "-On", "-Oq", address, oid],
        capture_output=True, text=True, env={"MIBS": ""}, timeout=20, check=True,
    )  # fmt: skip
    return {
        line.split()[0].rsplit(".", 1)[1]: line.split(maxsplit=1)[1].strip('"')
        for line in indexed.stdout.splitlines()
    }


def test_second_up_changes_nothing(model: LabModel) -> None:
    before = pids()
    links_before = {ns: sorted(links(ns)) for ns in namespaces() if ns.startswith("mgx-pe")}
    model.cli("lab", "up")
    assert pids() == before
    assert {ns: sorted(links(ns)) for ns in namespaces() if ns.startswith("mgx-pe")} == links_before


def test_up_mends_a_site_link_left_half_made(model: LabModel) -> None:
    """What a run killed inside ``lab up`` leaves: the pair made, its ends
    down, the site end without its address."""
    network, allocations = model.network()
    site = next(s for s in network.sites if s.pop == "brest")
    alloc = allocations.sites[site.id]
    name = f"acc{alloc.port}.{alloc.vlan}"
    for netns in ("mgx-pe-brest", "mgx-acc-brest"):
        subprocess.run(["ip", "-n", netns, "link", "set", "dev", name, "down"], check=True)
    subprocess.run(["ip", "-n", "mgx-acc-brest", "addr", "flush", "dev", name], check=True)
    model.cli("lab", "up")
    for netns in ("mgx-pe-brest", "mgx-acc-brest"):
        assert "UP" in links(netns)[name]["flags"], netns
    far = links("mgx-acc-brest")[name]
    assert f"{alloc.site_address}/31" in addresses(far)
    route = subprocess.run(
        ["ip", "-n", "mgx-acc-brest", "-j", "route", "show", "default"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(route.stdout), "no default route in mgx-acc-brest"


def test_up_follows_a_removed_site(model: LabModel) -> None:
    network, allocations = model.network()
    site = next(s for s in network.sites if s.pop == "rennes")
    alloc = allocations.sites[site.id]
    name = f"acc{alloc.port}.{alloc.vlan}"
    model.cli("site", "remove", site.id)
    model.cli("lab", "up")
    assert name not in links("mgx-pe-rennes") and name not in links("mgx-acc-rennes")


def test_down_removes_exactly_what_up_made(model: LabModel) -> None:
    daemon_pids = [int(p.split(":")[1]) for p in pids()]
    others_before = {ns for ns in namespaces() if not ns.startswith("mgx-")}
    model.cli("lab", "down")
    assert not {ns for ns in namespaces() if ns.startswith(("mgx-pe", "mgx-acc"))}
    assert {ns for ns in namespaces() if not ns.startswith("mgx-")} == others_before
    assert not [name for name in links() if name.startswith("mgx-m")]
    assert "mgx-mgmt" not in links()
    assert not list(Path("/etc/frr").glob("mgx-pe-*"))
    alive = [pid for pid in daemon_pids if Path(f"/proc/{pid}").exists()]
    states = [Path(f"/proc/{pid}/stat").read_text().split()[2] for pid in alive]
    assert all(state == "Z" for state in states)  # gone, or a zombie PID 1 has yet to reap
    assert "nothing was up" in model.cli("lab", "down").stdout
