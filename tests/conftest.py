"""Shared fixtures: the shipped files, and editable copies of them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from megalis_net.ipam import SITE_ALLOCATIONS_FILE, Allocations, allocate, load_allocations
from megalis_net.lab import access
from megalis_net.loader import load_network, load_topology
from megalis_net.model import Network, Topology

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regen-golden",
        action="store_true",
        help="Rewrite the golden files from the current output (review the diff!).",
    )


@pytest.fixture(scope="session")
def shipped_topology() -> Topology:
    return load_topology(ROOT / "topology").topology


@dataclass
class NetworkCopy:
    """A private copy of topology/ and inventory/ that a test may edit."""

    topology: Path
    inventory: Path

    def edit(self, relative: str, old: str, new: str) -> Path:
        """Replace one exact piece of text in a copied file (it must be there)."""
        path = self.topology.parent / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return path


@pytest.fixture
def network_copy(tmp_path: Path) -> NetworkCopy:
    """The shipped topology and routers, with the small site fixture as sites.csv."""
    shutil.copytree(ROOT / "topology", tmp_path / "topology")
    shutil.copytree(ROOT / "inventory", tmp_path / "inventory")
    shutil.copy(FIXTURES / "sites" / "small.csv", tmp_path / "inventory" / "sites.csv")
    # The shipped site allocations belong to the shipped sites.
    (tmp_path / "inventory" / SITE_ALLOCATIONS_FILE).unlink()
    return NetworkCopy(tmp_path / "topology", tmp_path / "inventory")


@pytest.fixture(scope="session")
def render_network(tmp_path_factory: pytest.TempPathFactory) -> tuple[Network, Allocations]:
    """A small allocated network for rendering tests: six sites that cover every case,
    and two announced (documentation) prefixes.

    tests/fixtures/render/sites.csv: two Rennes sites (one with the L2 Renater
    service, switched locally at the hand-off PoP), a Brest research site with
    a pseudowire to Rennes, and two sites without a legacy LAN (pool LANs).
    """
    root = tmp_path_factory.mktemp("render")
    shutil.copytree(ROOT / "topology", root / "topology")
    shutil.copytree(ROOT / "inventory", root / "inventory")
    shutil.copy(FIXTURES / "render" / "sites.csv", root / "inventory" / "sites.csv")
    routing = root / "topology" / "routing.yaml"
    text = routing.read_text(encoding="utf-8")
    # Documentation prefixes, so that the announcement policies have something to render.
    routing.write_text(
        text.replace(
            "announced_prefixes: []", "announced_prefixes: [192.0.2.0/24, 198.51.100.0/24]"
        )
    )
    (root / "inventory" / SITE_ALLOCATIONS_FILE).unlink()
    network = load_network(root / "topology", root / "inventory")
    return network, allocate(network, load_allocations(root / "inventory")).allocations


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Compare text with tests/golden/<relative>; --regen-golden rewrites the file."""
    regen = bool(request.config.getoption("--regen-golden"))

    def check(relative: str, text: str) -> None:
        path = GOLDEN / relative
        if regen:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"no golden file {path}: run pytest --regen-golden and review it"
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"{relative} differs from its golden file (see the diff above)"

    return check


@pytest.fixture
def line_of() -> Callable[[Path, str], int]:
    """1-based line number of the first line containing ``needle``."""

    def find(path: Path, needle: str) -> int:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if needle in line:
                return number
        raise AssertionError(f"{needle!r} not found in {path}")

    return find


@dataclass
class LabModel:
    """An editable copy of the model with the six render sites, allocated: what
    the lab tests build their lab from (sites can be added to it)."""

    topology: Path
    inventory: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "MEGALIS_TOPOLOGY": str(self.topology),
            "MEGALIS_INVENTORY": str(self.inventory),
            "MEGALIS_STATE": str(self.state),
        }

    @property
    def state(self) -> Path:
        """Where commands keep what they remember (the last verification)."""
        return self.topology.parent / "state"

    def cli(self, *args: str, check: bool = True, timeout: float = 600) -> CompletedProcess[str]:
        """Run ``megalis-net`` as a user would, in its own process."""
        result = subprocess.run(
            [str(MEGALIS_NET), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check:
            assert result.returncode == 0, f"megalis-net {' '.join(args)}: {result.stderr}"
        return result

    def network(self) -> tuple[Network, Allocations]:
        network = load_network(self.topology, self.inventory)
        return network, load_allocations(self.inventory)


MEGALIS_NET = Path(sys.executable).parent / "megalis-net"


def lab_model(root: Path) -> LabModel:
    shutil.copytree(ROOT / "topology", root / "topology")
    shutil.copytree(ROOT / "inventory", root / "inventory")
    shutil.copy(FIXTURES / "render" / "sites.csv", root / "inventory" / "sites.csv")
    (root / "inventory" / SITE_ALLOCATIONS_FILE).unlink()
    model = LabModel(root / "topology", root / "inventory")
    model.cli("allocate")
    return model


def require_lab_machine() -> None:
    if os.geteuid() != 0 or not Path("/usr/lib/frr/frrinit.sh").exists():
        pytest.fail("lab tests need root and FRR, snmpd, sshd installed (scripts/install-system)")


@dataclass(frozen=True)
class LabRouter:
    """One lab router, as the NAPALM driver reaches it."""

    hostname: str  # management address
    username: str
    key_file: Path
    netns: str
    pathspace: str


@pytest.fixture(scope="module")
def frr_lab_router(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabRouter]:
    """pe-brest of a lab built from the small model (its rendered config: a
    reflector with iBGP and eBGP sessions, sites, IS-IS); the lab is taken
    down after the module."""
    require_lab_machine()
    model = lab_model(tmp_path_factory.mktemp("lab-router"))
    model.cli("lab", "down", check=False)
    model.cli("lab", "up")
    try:
        router = access()["pe-brest"]
        yield LabRouter(
            router.address, router.username, router.key_file, router.netns, router.netns
        )
    finally:
        model.cli("lab", "down", check=False)


@dataclass(frozen=True)
class NetBoxServer:
    url: str
    token: str


@pytest.fixture(scope="session")
def netbox_server() -> Iterator[NetBoxServer]:
    """The local NetBox of ``scripts/netbox``, emptied once for the session.

    Starts it when it is not running (and then stops it at the end); fails with
    one clear message when it cannot. ``reset`` drops our NetBox database and
    restores the cached schema (~20 s), so that what a benchmark left behind
    does not slow the tests down.
    """
    script = ROOT / "scripts" / "netbox"
    was_running = subprocess.run([script, "status"], capture_output=True).returncode == 0
    started = subprocess.run([script, "reset"], capture_output=True, text=True)
    if started.returncode != 0:
        pytest.fail(f"scripts/netbox reset failed (the netbox tier needs it):\n{started.stderr}")
    env = subprocess.run([script, "env"], capture_output=True, text=True, check=True).stdout
    values = dict(line.removeprefix("export ").split("=", 1) for line in env.splitlines())
    yield NetBoxServer(values["MEGALIS_NETBOX_URL"], values["MEGALIS_NETBOX_TOKEN"])
    if not was_running:
        subprocess.run([script, "stop"], check=True)
