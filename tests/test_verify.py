"""``verify`` on the lab: SNMP against what the routers really report.

A bare lab, one deploy, then: everything fine; a ring link cut and restored;
a site interface renamed; an agent stopped; SNMPv3 instead of v2c. The
poller's rows are also compared with net-snmp's own ``snmpbulkwalk``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from megalis_net.intent import build_intents
from megalis_net.lab import access
from megalis_net.lab.plan import netns_of
from megalis_net.model import Platform
from megalis_net.napalm_frr.onrouter import candidate_form
from megalis_net.snmp import COLUMN_NAMES, COLUMNS, Agent, V2c, poll
from tests.conftest import LabModel, lab_model, require_lab_machine
from tests.test_deploy import deploy, outcomes

pytestmark = [pytest.mark.lab, pytest.mark.slow]

# snmpd caches the interface table for a few seconds (LAB.md): a change shows
# in the agent's answers within this time
AGENT_CACHE = 15.0


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabModel]:
    require_lab_machine()
    model = lab_model(tmp_path_factory.mktemp("verify"))
    model.cli("lab", "down", check=False)
    model.cli("lab", "up", "--bare")
    code, report = deploy(model)
    assert code == 0, report
    assert set(outcomes(report).values()) == {"committed"}
    yield model
    model.cli("lab", "down", check=False)


def verify(model: LabModel, *args: str) -> tuple[int, Any]:
    result = model.cli("verify", "--lab", "--json", *args, check=False, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def verify_until(
    model: LabModel, code: int, *args: str, until: Callable[[Any], bool] = lambda _: True
) -> Any:
    """Verify again until it exits ``code`` with a report ``until`` accepts
    (the agent's table catches up with a change within seconds), or fail."""
    deadline = time.monotonic() + AGENT_CACHE
    while True:
        got, report = verify(model, "--interval", "0", *args)
        if got == code and until(report):
            return report
        if time.monotonic() > deadline:
            pytest.fail(f"verify still exits {got} after {AGENT_CACHE:g} s: {report}")
        time.sleep(1)


def port_of(model: LabModel, host: str, link: str) -> str:
    network, allocations = model.network()
    intent = build_intents(network, allocations, Platform.FRR, [host])[host]
    return next(port.name for port in intent.ports if port.link == link)


def test_clean_deploy_verifies_every_intended_interface(deployed: LabModel) -> None:
    code, report = verify(deployed, "--interval", "1")
    network, _ = deployed.network()
    topology = network.topology
    # counted from the model, not from the intent verify uses
    expected = 2 * len(topology.links) + len(topology.upstreams) + len(network.sites)
    assert code == 0, report["discrepancies"]
    assert report["checked"] == report["fine"] == expected
    assert report["discrepancies"] == [] and report["unreachable"] == []
    assert {link["state"] for link in report["links"]} == {"up"}
    # two polls a second apart: every interface has a measured rate
    assert all(i["utilisation"] is not None for i in report["interfaces"])
    saved = json.loads((deployed.state / "verify-last.json").read_text())
    assert saved == report


def test_a_cut_ring_link_is_named_at_both_ends(deployed: LabModel) -> None:
    link = "ring-lorient-quimper"
    lorient, quimper = port_of(deployed, "pe-lorient", link), port_of(deployed, "pe-quimper", link)
    subprocess.run(["ip", "-n", netns_of("pe-lorient"), "link", "set", lorient, "down"], check=True)
    try:
        # both ends: the far one goes oper down when the agent next reads it
        report = verify_until(deployed, 1, until=lambda r: len(r["discrepancies"]) >= 2)
        named = {(d["device"], d["interface"], d["link"]) for d in report["discrepancies"]}
        assert named == {("pe-lorient", lorient, link), ("pe-quimper", quimper, link)}
        problems = {d["device"]: d["problem"] for d in report["discrepancies"]}
        assert problems == {"pe-lorient": "admin down", "pe-quimper": "oper down"}
        states = {entry["link"]: entry["state"] for entry in report["links"]}
        assert states.pop(link) == "down"
        assert set(states.values()) == {"up"}
    finally:
        subprocess.run(["ip", "-n", netns_of("pe-lorient"), "link", "set", lorient, "up"])
    assert verify_until(deployed, 0)["ok"] is True


def test_a_site_on_the_wrong_interface_is_reported_as_moved(deployed: LabModel) -> None:
    """The site's cable moved to another port that carries its description
    (net-snmp never updates ifName on a rename, so the port is a new one)."""
    network, _ = deployed.network()
    site = network.sites[0]
    host = next(d.name for d in network.devices if d.pop == site.pop)
    _, report = verify(deployed, "--interval", "0", "--devices", host)
    unit = next(i["interface"] for i in report["interfaces"] if i["site_id"] == site.id)
    netns = netns_of(host)
    alias = Path(f"/sys/class/net/{unit}/ifalias")
    description = subprocess.run(
        ["ip", "netns", "exec", netns, "cat", str(alias)], capture_output=True, text=True
    ).stdout.strip()
    assert description.startswith(site.id)
    subprocess.run(["ip", "-n", netns, "link", "del", unit], check=True)
    subprocess.run(
        ["ip", "-n", netns, "link", "add", "acc0.900", "type", "veth", "peer", "name", "x900",
         "netns", f"mgx-acc-{site.pop}"], check=True,
    )  # fmt: skip
    subprocess.run(
        ["ip", "-n", netns, "link", "set", "acc0.900", "alias", description, "up"], check=True
    )
    subprocess.run(["ip", "-n", f"mgx-acc-{site.pop}", "link", "set", "x900", "up"], check=True)
    try:
        report = verify_until(
            deployed, 1, "--devices", host,
            until=lambda r: any(d["problem"] == "moved" for d in r["discrepancies"]),
        )  # fmt: skip
        (found,) = report["discrepancies"]
        assert (found["interface"], found["problem"], found["link"]) == (unit, "moved", site.id)
        assert "acc0.900" in found["detail"]
    finally:
        subprocess.run(["ip", "-n", netns, "link", "del", "acc0.900"])
        deployed.cli("lab", "up")  # puts the site's link back, with its description
    verify_until(deployed, 0, "--devices", host)


def test_a_silent_agent_is_named_and_the_others_complete(deployed: LabModel) -> None:
    pid_file = deployed_pid_file("pe-vannes")
    os.kill(int(pid_file.read_text()), signal.SIGTERM)
    try:
        code, report = verify(deployed, "--interval", "0", "--timeout", "0.5", "--retries", "0")
        assert code == 1
        (unreachable,) = report["unreachable"]
        assert unreachable["device"] == "pe-vannes"
        assert access()["pe-vannes"].address in unreachable["error"]
        others = [i for i in report["interfaces"] if i["device"] != "pe-vannes"]
        assert others and all(i["state"] == "fine" for i in others)
        assert [d["problem"] for d in report["discrepancies"]] == ["unreachable"]
    finally:
        deployed.cli("lab", "up")  # restarts the dead agent
    assert verify_until(deployed, 0)["ok"] is True


def deployed_pid_file(host: str) -> Path:
    state_dir = Path(os.environ.get("MEGALIS_LAB_DIR", "/run/megalis-net/lab"))
    return state_dir / host / "snmpd.pid"


def test_snmpv3_auth_priv_verifies_the_same(deployed: LabModel) -> None:
    defaults = deployed.inventory / "defaults.yaml"
    original = defaults.read_text()
    defaults.write_text(original.replace('version: "2c"', 'version: "3"'))
    try:
        code, report = verify(deployed, "--interval", "0")
    finally:
        defaults.write_text(original)
    assert code == 0, report["discrepancies"]
    assert report["fine"] == report["checked"] > 0


def test_poll_matches_snmpbulkwalk(deployed: LabModel) -> None:
    router = access()["pe-rennes"]
    agent = Agent(router.host, router.address, V2c(router.snmp_community))
    before = poll([agent])[router.host]
    walked = {name: snmpbulkwalk(router.address, router.snmp_community, oid)
              for name, oid in zip(COLUMN_NAMES, COLUMNS, strict=True)}  # fmt: skip
    after = poll([agent])[router.host]
    assert before.ok and after.ok
    rows = {row.index: row for row in before.interfaces}
    later = {row.index: row for row in after.interfaces}
    assert set(rows) == set(walked["ifName"]) == set(later) and len(rows) > 10
    for index, row in rows.items():
        assert walked["ifName"][index] == row.name
        assert walked["ifAlias"][index] == row.alias
        assert int(walked["ifAdminStatus"][index]) == row.admin_status
        assert int(walked["ifOperStatus"][index]) == row.oper_status
        assert int(walked["ifHighSpeed"][index]) == row.high_speed
        # counters move between the walks: the C tool's reading lies between ours
        for column, attribute in (
            ("ifHCInOctets", "in_octets"),
            ("ifHCOutOctets", "out_octets"),
            ("ifInErrors", "in_errors"),
            ("ifOutErrors", "out_errors"),
        ):
            value = int(walked[column][index])
            assert getattr(row, attribute) <= value <= getattr(later[index], attribute)


def snmpbulkwalk(address: str, community: str, oid: tuple[int, ...]) -> dict[int, str]:
    """index -> value of one column, as net-snmp prints it (-Oq: no type; -Ov no OID)."""
    column = "." + ".".join(map(str, oid))
    result = subprocess.run(
        ["snmpbulkwalk", "-v2c", "-c", community, "-On", "-Oq", "-Oe", "-Cr50", address, column],
        capture_output=True, text=True, timeout=60, check=True, env={**os.environ, "MIBS": ""},
    )  # fmt: skip
    values: dict[int, str] = {}
    for line in result.stdout.splitlines():
        name, _, value = line.partition(" ")
        values[int(name.rsplit(".", 1)[1])] = value.strip().strip('"')
    return values


def test_a_site_left_on_the_router_is_not_intended(deployed: LabModel) -> None:
    """Removed from the inventory, not (yet) from its router: verify says so."""
    network, _ = deployed.network()
    site = network.sites[-1]
    host = next(d.name for d in network.devices if d.pop == site.pop)
    kept = inventory_bytes(deployed)
    deployed.cli("site", "remove", site.id)
    try:
        code, report = verify(deployed, "--interval", "0", "--devices", host)
    finally:
        for name, data in kept.items():
            (deployed.inventory / name).write_bytes(data)
    assert code == 1
    (found,) = report["discrepancies"]
    assert (found["problem"], found["link"], found["kind"]) == ("not intended", site.id, "unknown")
    assert verify(deployed, "--interval", "0", "--devices", host)[0] == 0


# -- site add|remove --apply: the whole chain for one connection ----------------

NEW_SITE = ("--name", "Mairie de Plogonnec", "--pop", "quimper", "--community", "local-government",
            "--rate", "10M", "--commune", "Plogonnec")  # fmt: skip


def inventory_bytes(model: LabModel) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(model.inventory.iterdir()) if p.is_file()}


def running_config(host: str) -> str:
    result = subprocess.run(
        ["vtysh", "-N", netns_of(host), "-c", "show running-config"],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return result.stdout


def pe_links(host: str) -> set[str]:
    shown = subprocess.run(["ip", "-n", netns_of(host), "-o", "link", "show"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    return {line.split(":")[1].strip().split("@")[0] for line in shown.stdout.splitlines()}


def apply(model: LabModel, *args: str) -> tuple[int, Any]:
    result = model.cli("site", *args, "--apply", "--lab", "--json", check=False, timeout=600)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_site_add_apply_with_the_access_link_down_rolls_back(deployed: LabModel) -> None:
    planned = json.loads(deployed.cli("site", "add", *NEW_SITE, "--dry-run", "--json").stdout)
    host, unit = planned["allocation"]["device"], planned["allocation"]["interface"]
    deployed.cli("lab", "hold", host, unit)
    inventory, config = inventory_bytes(deployed), running_config(host)
    try:
        code, report = apply(deployed, "add", *NEW_SITE, "--verify-timeout", "6")
    finally:
        deployed.cli("lab", "release", host, unit)
    assert code == 1 and report["applied"] is False
    assert f"{unit} oper down" in report["reason"]
    assert {d["host"]: d["outcome"] for d in report["devices"]} == {host: "failed"}
    assert inventory_bytes(deployed) == inventory
    # FRR keeps an empty "interface X" stanza for a unit configured and then
    # unconfigured: the same config (the driver compares them so too)
    assert candidate_form(running_config(host)) == candidate_form(config)
    assert unit not in pe_links(host)  # the lab follows the router: no link for no site


def test_site_add_apply_pushes_verifies_and_records(deployed: LabModel) -> None:
    code, report = apply(deployed, "add", *NEW_SITE)
    assert code == 0, report["reason"]
    assert report["applied"] and report["inventory_written"]
    site_id = report["site"]["id"]
    ((host, unit),) = {(v["device"], v["interface"]) for v in report["verified"]}
    assert [v["state"] for v in report["verified"]] == ["fine"]
    assert site_id in (deployed.inventory / "sites.csv").read_text()
    assert f"interface {unit}\n description {site_id} " in running_config(host)
    code, full = verify(deployed, "--interval", "0")
    assert code == 0 and site_id in {i["site_id"] for i in full["interfaces"]}
    # and back out the same way
    code, report = apply(deployed, "remove", site_id)
    assert code == 0, report["reason"]
    assert site_id not in (deployed.inventory / "sites.csv").read_text()
    assert f"interface {unit}\n" not in candidate_form(running_config(host))
    assert unit not in pe_links(host)
    assert verify(deployed, "--interval", "0")[0] == 0
