"""Shared fixtures: the shipped files, and editable copies of them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from megalis_net.ipam import SITE_ALLOCATIONS_FILE, Allocations, allocate, load_allocations
from megalis_net.loader import load_network, load_topology
from megalis_net.model import Network, Topology
from tests.scratch_router import ScratchRouter

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


@pytest.fixture(scope="session")
def frr_lab_router() -> Iterator[ScratchRouter]:
    """An FRR router the NAPALM driver can reach over SSH, as the lab provides them.

    Tests use only ``hostname`` (management address to SSH to), ``username``,
    ``key_file``, ``netns`` and ``pathspace``, and expect a running config
    with at least one interface address and one BGP neighbor. For now a
    scratch router (tests/scratch_router.py) with tests/fixtures/napalm_frr/base.conf.
    """
    if os.geteuid() != 0 or not Path("/usr/lib/frr/frrinit.sh").exists():
        pytest.fail("needs root and FRR installed (scripts/install-system)")
    router = ScratchRouter(
        ["eth1", "eth2", "eth3"],
        (FIXTURES / "napalm_frr" / "base.conf").read_text(encoding="utf-8"),
        hostname="drv-router",
    )
    try:
        router.create()
        yield router
    finally:
        router.destroy()
