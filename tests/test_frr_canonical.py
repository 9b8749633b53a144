"""Rendered FRR configs are already in FRR's canonical form.

Each config is loaded into a real FRR 8.4 (its own pathspace, in a scratch
network namespace holding the config's interfaces) and compared with what
``show running-config`` prints back. Equal means a later deploy diffs to
nothing when nothing changed. Two lines are left out of the comparison,
both properties of this scratch router rather than of the config:
``hostname`` (FRR prints the system's; the lab gives each router its own
UTS namespace) and the ``frr version`` header.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from megalis_net.intent import build_intents
from megalis_net.ipam import Allocations
from megalis_net.model import Network, Platform
from megalis_net.render import render_all

pytestmark = pytest.mark.lab

FRR_ETC = Path("/etc/frr")
FRRINIT = "/usr/lib/frr/frrinit.sh"
DAEMONS = ("zebra", "bgpd", "isisd", "staticd")


def run(*command: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        command, input=stdin, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"{' '.join(command)}: {result.stderr}"
    return result.stdout


class ScratchRouter:
    """One FRR pathspace in one network namespace, made and removed by the test."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.etc = FRR_ETC / name

    def start(self, config: str) -> None:
        self.stop()
        run("ip", "netns", "add", self.name)
        names = [line.split()[1] for line in config.splitlines() if line.startswith("interface ")]
        batch = [f"link add {n} type veth peer name p{i}" for i, n in enumerate(names) if n != "lo"]
        run("ip", "-n", self.name, "-batch", "-", stdin="\n".join([*batch, "link set lo up"]))
        for sysctl in ("net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"):
            run("ip", "netns", "exec", self.name, "sysctl", "-q", "-w", sysctl)
        self.etc.mkdir(parents=True, exist_ok=True)
        daemons = (FRR_ETC / "daemons").read_text()
        for daemon in DAEMONS[1:]:
            daemons = daemons.replace(f"{daemon}=no", f"{daemon}=yes")
        (self.etc / "daemons").write_text(daemons + '\nwatchfrr_options="--netns"\n')
        (self.etc / "vtysh.conf").write_text("service integrated-vtysh-config\n")
        (self.etc / "frr.conf").write_text(config)
        for path in self.etc.iterdir():
            shutil.chown(path, "frr", "frr")
        run(FRRINIT, "start", self.name)

    def running_config(self) -> str:
        return run("vtysh", "-N", self.name, "-c", "show running-config")

    def stop(self) -> None:
        if (Path("/var/run/frr") / self.name).exists():
            subprocess.run([FRRINIT, "stop", self.name], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, check=False)
        shutil.rmtree(self.etc, ignore_errors=True)


@pytest.fixture(scope="module")
def router() -> Iterator[ScratchRouter]:
    if os.geteuid() != 0 or not Path(FRRINIT).exists():
        pytest.fail("needs root and FRR installed (scripts/install-system)")
    scratch = ScratchRouter(f"mgx-canon-{os.getpid()}")
    yield scratch
    scratch.stop()


def comparable(config: str) -> list[str]:
    """Config lines without what this comparison leaves out (see the module doc)."""
    lines = config.splitlines()
    if "Current configuration:" in lines:  # vtysh's banner
        lines = lines[lines.index("Current configuration:") + 1 :]
    skipped = ("!", "frr version", "hostname ")
    return [line for line in lines if line.strip() and not line.startswith(skipped)]


def settled_running_config(router: ScratchRouter, expected: list[str]) -> list[str]:
    """The running config once the daemons have read theirs (a few seconds)."""
    deadline = time.monotonic() + 15
    running = comparable(router.running_config())
    while running != expected and time.monotonic() < deadline:
        time.sleep(0.5)
        running = comparable(router.running_config())
    return running


@pytest.mark.parametrize(
    "device", ["pe-rennes", "pe-brest", "pe-vannes", "pe-saint-malo"]
)  # the two reflectors with their exits and hand-off, a client, the extension
def test_rendered_frr_config_is_what_frr_prints_back(
    render_network: tuple[Network, Allocations], router: ScratchRouter, device: str
) -> None:
    config = render_all(build_intents(*render_network, Platform.FRR))[device]
    router.start(config)
    expected = comparable(config)
    assert settled_running_config(router, expected) == expected
