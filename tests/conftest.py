"""Shared fixtures: the shipped files, and editable copies of them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from megalis_net.loader import load_topology
from megalis_net.model import Topology

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
    return NetworkCopy(tmp_path / "topology", tmp_path / "inventory")


@pytest.fixture
def line_of() -> Callable[[Path, str], int]:
    """1-based line number of the first line containing ``needle``."""

    def find(path: Path, needle: str) -> int:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if needle in line:
                return number
        raise AssertionError(f"{needle!r} not found in {path}")

    return find
