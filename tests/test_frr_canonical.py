"""Rendered FRR configs are already in FRR's canonical form.

The lab loads every router's rendered config into a real FRR 8.4 (``lab
up``), and each config is compared with what ``show running-config`` prints
back. Equal means a later deploy diffs to nothing when nothing changed. Two
lines are left out of the comparison, both properties of where vtysh runs
rather than of the config: ``hostname`` (vtysh run from the root namespace
prints the machine's too) and the ``frr version`` header.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from megalis_net.intent import build_intents
from megalis_net.lab import netns_of
from megalis_net.model import Platform
from megalis_net.render import render_all
from tests.conftest import LabModel, lab_model, require_lab_machine

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabModel]:
    """The lab of the six render sites, with announced (documentation) prefixes so
    that the announcement policies are rendered too."""
    require_lab_machine()
    model = lab_model(tmp_path_factory.mktemp("canonical"))
    routing = Path(model.topology) / "routing.yaml"
    text = routing.read_text(encoding="utf-8")
    routing.write_text(
        text.replace(
            "announced_prefixes: []", "announced_prefixes: [192.0.2.0/24, 198.51.100.0/24]"
        )
    )
    model.cli("lab", "down", check=False)
    model.cli("lab", "up")
    yield model
    model.cli("lab", "down", check=False)


def comparable(config: str) -> list[str]:
    """Config lines without what this comparison leaves out (see the module doc)."""
    lines = config.splitlines()
    if "Current configuration:" in lines:  # vtysh's banner
        lines = lines[lines.index("Current configuration:") + 1 :]
    skipped = ("!", "frr version", "hostname ")
    return [line for line in lines if line.strip() and not line.startswith(skipped)]


@pytest.mark.parametrize(
    "device", ["pe-rennes", "pe-brest", "pe-vannes", "pe-saint-malo", "pe-lannion"]
)  # the two reflectors with their exits and hand-off, a client, the extension, no site
def test_rendered_frr_config_is_what_frr_prints_back(model: LabModel, device: str) -> None:
    config = render_all(build_intents(*model.network(), Platform.FRR))[device]
    assert "192.0.2.0/24" in config or device not in ("pe-rennes", "pe-brest")
    shown = subprocess.run(
        ["vtysh", "-N", netns_of(device), "-c", "show running-config"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    assert comparable(shown) == comparable(config)
