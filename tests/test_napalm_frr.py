"""The NAPALM FRR driver against a real FRR router over SSH (fixture ``frr_lab_router``).

Expectations come from the router's own running config at the start (its
hostname, interface addresses, BGP neighbors), so the tests hold for any
lab router; every test leaves that config as it found it.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_origin

import napalm
import pytest
from napalm.base import models
from napalm.base.exceptions import (
    CommitConfirmException,
    CommitError,
    ConnectAuthError,
    ConnectionException,
    MergeConfigException,
    ReplaceConfigException,
)
from nornir import InitNornir
from nornir_napalm.plugins.tasks import napalm_get

from megalis_net.napalm_frr import FrrDriver
from megalis_net.napalm_frr.onrouter import candidate_form
from tests.conftest import LabRouter

pytestmark = pytest.mark.lab

TEST_ROUTE = "ip route 192.0.2.128/28 blackhole"  # TEST-NET-1: never a real site
MERGED_ROUTE = "ip route 198.51.100.0/28 blackhole"


def connect(router: LabRouter, **optional: Any) -> FrrDriver:
    args = {"key_file": str(router.key_file), **optional}
    driver = napalm.get_network_driver("frr")(
        router.hostname, router.username, "", timeout=10, optional_args=args
    )
    assert isinstance(driver, FrrDriver)
    return driver


@pytest.fixture(scope="module")
def base_config(frr_lab_router: LabRouter) -> str:
    """The router's running config before any test (banner stripped)."""
    with connect(frr_lab_router) as driver:
        return driver.get_config(retrieve="running")["running"]


@pytest.fixture
def driver(frr_lab_router: LabRouter, base_config: str) -> Iterator[FrrDriver]:
    """An open driver; afterwards the router is back to ``base_config``, nothing pending."""
    with connect(frr_lab_router) as device:
        yield device
    with connect(frr_lab_router) as device:
        if device.has_pending_commit():
            device.confirm_commit()
        device.load_replace_candidate(config=base_config)
        if device.compare_config():
            device.commit_config()


def with_line(config: str, line: str) -> str:
    """``config`` with a static route where FRR prints it (after its other static routes).

    Examples:
        >>> with_line("hostname r\\n!\\nip route 10.0.0.0/8 blackhole\\n!\\nend\\n",
        ...           "ip route 192.0.2.0/28 blackhole")
        'hostname r\\n!\\nip route 10.0.0.0/8 blackhole\\nip route 192.0.2.0/28 blackhole\\n!\\nend\\n'
    """
    lines = config.splitlines()
    statics = [i for i, text in enumerate(lines) if text.startswith("ip route ")]
    if statics:
        lines.insert(statics[-1] + 1, line)
    else:
        lines[lines.index("!") : lines.index("!")] = ["!", line]
    return "\n".join(lines) + "\n"


def complies(model: Any, data: dict[str, Any], allow_subset: bool = False) -> bool:
    """``data`` has the keys and value types of NAPALM's TypedDict ``model``.

    napalm.base.test.helpers.test_model does this but fails on ``Dict[...]`` fields.
    """
    fields: dict[str, Any] = model.__annotations__
    keys_ok = set(data) <= set(fields) if allow_subset else set(data) == set(fields)
    return keys_ok and all(
        isinstance(value, get_origin(fields[key]) or fields[key]) for key, value in data.items()
    )


def startup(driver: FrrDriver) -> str:
    """frr.conf as a candidate would hold it (``write memory`` leaves out ``end``)."""
    text = candidate_form(driver.get_config(retrieve="startup")["startup"])
    return text if text.endswith("end\n") else f"{text}end\n"


def running(driver: FrrDriver) -> str:
    return driver.get_config(retrieve="running")["running"]


def wait_for(condition: Callable[[], bool], seconds: float) -> float:
    """Poll until ``condition`` holds; the time it took (fails after ``seconds``)."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, f"not done after {seconds} s"
        time.sleep(0.5)
    return time.monotonic() - start


# Getters


def test_get_facts(driver: FrrDriver, base_config: str) -> None:
    facts = driver.get_facts()
    assert complies(models.FactsDict, facts)
    assert f"hostname {facts['hostname']}" in base_config.splitlines()
    assert facts["vendor"] == "FRRouting"
    assert facts["os_version"].startswith("FRRouting 8.")
    assert facts["uptime"] >= 0
    assert "lo" in facts["interface_list"]


def configured_addresses(config: str) -> dict[str, str]:
    """Interface → its ``ip address`` in the config."""
    found = re.findall(r"^interface (\S+)\n(?: .*\n)*? ip address (\S+)$", config, re.MULTILINE)
    return dict(found)


def test_get_interfaces(driver: FrrDriver, base_config: str) -> None:
    interfaces = driver.get_interfaces()
    for state in interfaces.values():
        assert complies(models.InterfaceDict, state)
    for name, description in re.findall(
        r"^interface (\S+)\n description (.*)$", base_config, re.MULTILINE
    ):
        assert interfaces[name]["description"] == description
    configured = configured_addresses(base_config)
    assert configured, "the router's config has no interface address"
    for name in configured:
        assert interfaces[name]["is_enabled"]
        assert interfaces[name]["mtu"] > 0
        if name != "lo":
            assert re.fullmatch(r"([0-9A-F]{2}:){5}[0-9A-F]{2}", interfaces[name]["mac_address"])


def test_get_interfaces_ip(driver: FrrDriver, base_config: str) -> None:
    addresses = driver.get_interfaces_ip()
    for name, prefix in configured_addresses(base_config).items():
        address, length = prefix.split("/")
        assert complies(models.InterfacesIPDict, addresses[name], allow_subset=True)
        assert complies(models.InterfacesIPDictEntry, addresses[name]["ipv4"][address])
        assert addresses[name]["ipv4"][address] == {"prefix_length": int(length)}


def test_get_bgp_neighbors(driver: FrrDriver, base_config: str) -> None:
    neighbors = driver.get_bgp_neighbors()
    local_as = int(re.findall(r"^router bgp (\d+)$", base_config, re.MULTILINE)[0])
    configured = re.findall(r"^ neighbor (\S+) remote-as (\d+)$", base_config, re.MULTILINE)
    assert configured, "the router's config has no BGP neighbor"
    peers = neighbors["global"]["peers"]
    assert complies(models.BGPStateNeighborsPerVRFDict, neighbors["global"])
    for address, remote_as in configured:
        assert complies(models.BGPStateNeighborDict, peers[address])
        assert peers[address]["remote_as"] == int(remote_as)
        assert peers[address]["local_as"] == local_as
        assert complies(models.BGPStateAddressFamilyDict, peers[address]["address_family"]["ipv4"])
        shutdown = f" neighbor {address} shutdown" in base_config.splitlines()
        assert peers[address]["is_enabled"] is not shutdown
    router_id = re.findall(r"^ bgp router-id (\S+)$", base_config, re.MULTILINE)
    if router_id:
        assert neighbors["global"]["router_id"] == router_id[0]


def test_get_config(driver: FrrDriver, base_config: str) -> None:
    configs = driver.get_config()
    assert complies(models.ConfigDict, configs)
    assert configs["running"] == base_config
    assert not configs["running"].startswith(("Building", "Current", "frr version"))
    assert startup(driver) == base_config
    assert configs["candidate"] == ""
    driver.load_replace_candidate(config=with_line(base_config, TEST_ROUTE))
    assert TEST_ROUTE in driver.get_config(retrieve="candidate")["candidate"]
    assert driver.get_config(retrieve="candidate")["running"] == ""


def test_cli(driver: FrrDriver) -> None:
    output = driver.cli(["show version"])
    assert output["show version"].startswith("FRRouting")


# Candidates, commit, rollback


def test_compare_config_empty_for_the_running_config(driver: FrrDriver, base_config: str) -> None:
    driver.load_replace_candidate(config=base_config)
    assert driver.compare_config() == ""


def test_compare_config_ignores_the_banner(driver: FrrDriver) -> None:
    shown = driver.cli(["show running-config"])["show running-config"]
    assert shown.startswith("Building configuration")
    driver.load_replace_candidate(config=shown)
    assert driver.compare_config() == ""


def test_compare_config_shows_the_change(driver: FrrDriver, base_config: str) -> None:
    driver.load_replace_candidate(config=with_line(base_config, TEST_ROUTE))
    diff = driver.compare_config()
    assert f"\n+{TEST_ROUTE}\n" in diff
    assert diff.startswith("--- running\n+++ candidate\n")
    driver.discard_config()
    assert driver.compare_config() == ""
    assert running(driver) == base_config


def test_commit_then_nothing_left_to_change(
    driver: FrrDriver, base_config: str, frr_lab_router: LabRouter
) -> None:
    candidate = with_line(base_config, TEST_ROUTE)
    driver.load_replace_candidate(config=candidate)
    driver.commit_config()
    assert running(driver) == candidate
    assert startup(driver) == candidate
    driver.load_replace_candidate(config=candidate)
    assert driver.compare_config() == ""
    frr_conf = Path("/etc/frr") / frr_lab_router.pathspace / "frr.conf"
    written = frr_conf.stat().st_mtime_ns
    driver.commit_config()  # nothing to change: nothing touched
    assert frr_conf.stat().st_mtime_ns == written
    assert running(driver) == candidate


def test_commit_removes_in_one_batch(driver: FrrDriver, base_config: str) -> None:
    """Removals go through one vtysh batch, then frr-reload: the result is the candidate."""
    added = with_line(base_config, TEST_ROUTE)
    without_bgp = re.sub(r"^router bgp .*?^exit\n!\n", "", added, flags=re.MULTILINE | re.DOTALL)
    assert without_bgp != added
    driver.load_replace_candidate(config=without_bgp)
    driver.commit_config()
    assert running(driver) == without_bgp
    driver.rollback()
    assert running(driver) == base_config


def test_config_frr_rejects_is_refused(driver: FrrDriver, base_config: str) -> None:
    bad = base_config.replace(
        "\nend\n", "\ninterface lo\n ip addresss 192.0.2.1/32\nexit\n!\nend\n"
    )
    with pytest.raises(ReplaceConfigException, match=r"Unknown command.*ip addresss"):
        driver.load_replace_candidate(config=bad)
    with pytest.raises(CommitError, match="no candidate"):
        driver.commit_config()
    assert running(driver) == base_config


def test_merge_frr_refuses_on_apply_is_rolled_back(driver: FrrDriver, base_config: str) -> None:
    """A second BGP instance passes the syntax check but FRR refuses it when applied."""
    local_as = int(re.findall(r"^router bgp (\d+)$", base_config, re.MULTILINE)[0])
    merge = f"{TEST_ROUTE}\nrouter bgp {local_as + 1}\n bgp router-id 192.0.2.1\nexit\n"
    driver.load_merge_candidate(config=merge)
    with pytest.raises(CommitError, match=r"BGP is already running.*previous config restored"):
        driver.commit_config()
    assert running(driver) == base_config


def test_merge_candidate(driver: FrrDriver, base_config: str) -> None:
    driver.load_merge_candidate(config=f"{MERGED_ROUTE}\n")
    assert driver.compare_config() == f"+{MERGED_ROUTE}\n"
    driver.commit_config()
    assert running(driver) == with_line(base_config, MERGED_ROUTE)
    driver.load_merge_candidate(config=f"{MERGED_ROUTE}\n")
    assert driver.compare_config() == ""


def test_rejected_merge_candidate(driver: FrrDriver) -> None:
    with pytest.raises(MergeConfigException, match="Unknown command"):
        driver.load_merge_candidate(config="ip routing-table-of-doom\n")


def test_rollback_restores_the_previous_config(driver: FrrDriver, base_config: str) -> None:
    driver.load_replace_candidate(config=with_line(base_config, TEST_ROUTE))
    driver.commit_config()
    driver.rollback()
    assert running(driver) == base_config
    assert startup(driver) == base_config


def test_commit_confirm_not_confirmed_reverts_by_itself(
    driver: FrrDriver, base_config: str, frr_lab_router: LabRouter
) -> None:
    driver.load_replace_candidate(config=with_line(base_config, TEST_ROUTE))
    driver.commit_config(revert_in=3)
    assert driver.has_pending_commit()
    assert TEST_ROUTE in running(driver)
    with pytest.raises(CommitError, match="waiting for confirmation"):
        driver.load_replace_candidate(config=base_config)
        driver.commit_config()
    driver.close()  # the router reverts without us
    with connect(frr_lab_router) as fresh:
        took = wait_for(lambda: running(fresh) == base_config, 30)
        assert not fresh.has_pending_commit()
        assert startup(fresh) == base_config
        with pytest.raises(CommitConfirmException, match="no commit is waiting"):
            fresh.confirm_commit()
    print(f"reverted {took:.1f} s after the SSH session closed (revert_in=3)")


def test_commit_confirm_confirmed_stays(driver: FrrDriver, base_config: str) -> None:
    candidate = with_line(base_config, TEST_ROUTE)
    driver.load_replace_candidate(config=candidate)
    driver.commit_config(revert_in=2)
    driver.confirm_commit()
    assert not driver.has_pending_commit()
    time.sleep(3)
    assert running(driver) == candidate


def test_rollback_cancels_a_pending_commit(driver: FrrDriver, base_config: str) -> None:
    driver.load_replace_candidate(config=with_line(base_config, TEST_ROUTE))
    driver.commit_config(revert_in=60)
    driver.rollback()
    assert not driver.has_pending_commit()
    assert running(driver) == base_config


def test_commit_confirm_with_nothing_to_change(driver: FrrDriver, base_config: str) -> None:
    driver.load_replace_candidate(config=base_config)
    driver.commit_config(revert_in=2)
    assert not driver.has_pending_commit()
    driver.confirm_commit()  # what a deploy does after every commit


# Connection


def test_is_alive(driver: FrrDriver) -> None:
    assert driver.is_alive() == {"is_alive": True}
    driver.close()
    assert driver.is_alive() == {"is_alive": False}


def test_refused_connection_names_the_host(frr_lab_router: LabRouter) -> None:
    driver = connect(frr_lab_router, port=1)
    with pytest.raises(ConnectionException, match=re.escape(frr_lab_router.hostname)) as error:
        driver.open()
    assert "\n" not in str(error.value)


def test_wrong_key_names_the_host(frr_lab_router: LabRouter, tmp_path: Path) -> None:
    key = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    driver = connect(frr_lab_router, key_file=str(key))
    with pytest.raises(ConnectAuthError, match=re.escape(frr_lab_router.hostname)):
        driver.open()


def test_nornir_platform_frr(frr_lab_router: LabRouter, tmp_path: Path) -> None:
    """Nornir's napalm connection finds the driver from ``platform: frr``."""
    hosts = {
        "router": {
            "hostname": frr_lab_router.hostname,
            "username": frr_lab_router.username,
            "password": "",
            "platform": "frr",
            "connection_options": {
                "napalm": {"extras": {"optional_args": {"key_file": str(frr_lab_router.key_file)}}}
            },
        }
    }
    (tmp_path / "hosts.yaml").write_text(json.dumps(hosts))  # JSON is YAML
    nornir = InitNornir(
        inventory={
            "plugin": "SimpleInventory",
            "options": {"host_file": str(tmp_path / "hosts.yaml")},
        },
        runner={"plugin": "serial"},
        logging={"enabled": False},
    )
    result = nornir.run(task=napalm_get, getters=["facts"])
    nornir.close_connections()
    assert not result.failed, result["router"].exception
    assert result["router"].result["facts"]["vendor"] == "FRRouting"
