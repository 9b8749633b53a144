"""FRR configs: FRR's own parser accepts every rendered config; golden files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from megalis_net.intent import build_intents
from megalis_net.ipam import Allocations, load_allocations
from megalis_net.loader import load_devices, load_network
from megalis_net.model import Network, Platform
from megalis_net.render import render_all, render_device
from tests.conftest import ROOT

DEVICES = sorted(d.name for d in load_devices(ROOT / "inventory")[0])
VTYSH = shutil.which("vtysh") or "/usr/bin/vtysh"


def vtysh_check(path: Path) -> subprocess.CompletedProcess[str]:
    """`vtysh -C -f`: FRR's dry-run parse of a whole config; rc 0 only if every line is good."""
    return subprocess.run(
        [VTYSH, "-C", "-f", str(path)], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture(scope="module")
def full_model_configs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    network = load_network(ROOT / "topology", ROOT / "inventory")
    intents = build_intents(network, load_allocations(ROOT / "inventory"), Platform.FRR)
    folder = tmp_path_factory.mktemp("frr")
    paths = {}
    for name, text in render_all(intents).items():
        paths[name] = folder / f"{name}.conf"
        paths[name].write_text(text)
    return paths


@pytest.mark.frr
@pytest.mark.parametrize("device", DEVICES)
def test_frr_accepts_the_full_model_config(
    full_model_configs: dict[str, Path], device: str
) -> None:
    result = vtysh_check(full_model_configs[device])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.frr
@pytest.mark.parametrize("device", DEVICES)
def test_frr_accepts_the_small_model_config(
    render_network: tuple[Network, Allocations], tmp_path: Path, device: str
) -> None:
    intent = build_intents(*render_network, Platform.FRR)[device]
    path = tmp_path / f"{device}.conf"
    path.write_text(render_device(intent))
    result = vtysh_check(path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.frr
def test_the_parser_check_catches_a_bad_line(
    full_model_configs: dict[str, Path], tmp_path: Path
) -> None:
    text = full_model_configs["pe-brest"].read_text()
    bad = tmp_path / "bad.conf"
    bad.write_text(text.replace(" isis passive\n", " isis passive\n isis colour blue\n", 1))
    result = vtysh_check(bad)
    assert result.returncode != 0
    assert "isis colour blue" in result.stdout + result.stderr


@pytest.mark.parametrize("device", DEVICES)
def test_frr_golden_files(
    render_network: tuple[Network, Allocations], golden: object, device: str
) -> None:
    intent = build_intents(*render_network, Platform.FRR)[device]
    golden(f"frr/{device}.conf", render_device(intent))  # type: ignore[operator]


def test_frr_config_holds_every_site_and_says_what_it_leaves_out(
    render_network: tuple[Network, Allocations],
) -> None:
    network, allocations = render_network
    configs = render_all(build_intents(network, allocations, Platform.FRR))
    for site in network.sites:
        alloc = allocations.sites[site.id]
        text = configs[next(d.name for d in network.devices if d.pop == site.pop)]
        assert f"interface acc{alloc.port}.{alloc.vlan}\n" in text
        assert f"ip route {alloc.lan} {alloc.site_address}\n" in text
        assert f"  network {alloc.lan} rd " in text
    for template in ("bgp.j2", "mpls.j2"):
        assert "lab kernel has no" in (ROOT / "templates" / "frr" / template).read_text()
