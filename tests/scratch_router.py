"""One scratch FRR router reachable over SSH, for the NAPALM driver's lab tests.

Built the way ``../shared/LAB.md`` describes a lab router: a network
namespace with a few veth interfaces, an FRR pathspace of the same name
(zebra, bgpd, isisd, staticd) run in its own UTS namespace so its hostname
is its own, and an sshd listening only on a management address, in a
private mount namespace where ``/etc/frr/<name>`` and ``/var/run/frr/<name>``
are bind-mounted on ``/etc/frr`` and ``/var/run/frr`` (so plain ``vtysh``
and ``frr-reload.py`` act on this router). The management link is a veth
pair whose other end sits in the root namespace, in 198.18.200.0/24 (the
shared lab uses 198.18.0.0/24 on a bridge).

Everything made here is removed by :meth:`ScratchRouter.destroy`, processes
by PID. The lab (``megalis-net lab up``) will replace this builder; the
tests only rely on the attributes of :class:`ScratchRouter` that the
``frr_lab_router`` fixture documents.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

FRR_ETC = Path("/etc/frr")
FRR_RUN = Path("/var/run/frr")
FRRINIT = "/usr/lib/frr/frrinit.sh"
DAEMONS = ("bgpd", "isisd", "staticd")  # zebra always runs

SSHD_CONFIG = """\
ListenAddress {address}
HostKey {dir}/host_ed25519
PidFile {dir}/sshd.pid
AuthorizedKeysFile {dir}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# The keys live under /tmp, which StrictModes rejects (world-writable parent).
StrictModes no
"""

# watchfrr runs every daemon as its child: giving watchfrr its own UTS
# namespace gives the router its own hostname, which vtysh prints.
UTS_WRAPPER = """\
#!/bin/sh
exec unshare --uts sh -c 'hostname "$0" && exec "$@"' {hostname} "$@"
"""


def run(*command: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        command, input=stdin, capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {result.stderr.strip()}")
    return result.stdout


class ScratchRouter:
    """A router named ``mgx-drv-<pid>``: namespace, FRR pathspace and sshd."""

    username = "root"

    def __init__(self, interfaces: list[str], config: str, hostname: str) -> None:
        pid = os.getpid()
        self.netns = self.pathspace = f"mgx-drv-{pid}"
        self.interfaces = interfaces
        self.config = config
        self.router_hostname = hostname
        # A /30 per test process so two runs side by side do not collide.
        base = 4 * (pid % 63)
        self.hostname = f"198.18.200.{base + 2}"  # what the driver connects to
        self.root_address = f"198.18.200.{base + 1}"
        self.root_veth = f"mgxd{pid}"[:15]
        self.etc = FRR_ETC / self.pathspace
        self.dir = Path(tempfile.mkdtemp(prefix=f"{self.pathspace}-"))
        self.key_file = self.dir / "id_ed25519"
        self.sshd_pid: int | None = None

    def create(self) -> None:
        self._namespace()
        self._frr()
        self._sshd()

    def _namespace(self) -> None:
        ns = self.netns
        run("ip", "netns", "add", ns)
        run(
            "ip",
            "link",
            "add",
            self.root_veth,
            "type",
            "veth",
            "peer",
            "name",
            "mgmt0",
            "netns",
            ns,
        )
        run("ip", "addr", "add", f"{self.root_address}/30", "dev", self.root_veth)
        run("ip", "link", "set", self.root_veth, "up")
        # The management interface is made above (a config may name it too).
        data = [name for name in self.interfaces if name not in ("lo", "mgmt0")]
        batch = [f"link add {n} type veth peer name {n}p" for n in data]
        batch += [f"link set {n} up" for n in data]
        batch += [f"link set {n}p up" for n in data]
        batch += [f"addr add {self.hostname}/30 dev mgmt0", "link set mgmt0 up", "link set lo up"]
        run("ip", "-n", ns, "-batch", "-", stdin="\n".join(batch) + "\n")
        # A router forwards: FRR prints "no ip forwarding" otherwise.
        for sysctl in ("net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"):
            run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", sysctl)

    def _frr(self) -> None:
        self.etc.mkdir(parents=True)
        daemons = (FRR_ETC / "daemons").read_text()
        for daemon in DAEMONS:
            daemons = daemons.replace(f"{daemon}=no", f"{daemon}=yes")
        wrapper = self.dir / "uts-wrapper"
        wrapper.write_text(UTS_WRAPPER.format(hostname=self.router_hostname))
        wrapper.chmod(0o755)
        (self.etc / "daemons").write_text(
            daemons + f'\nwatchfrr_options="--netns"\nwatchfrr_wrap="{wrapper}"\n'
        )
        (self.etc / "vtysh.conf").write_text("service integrated-vtysh-config\n")
        (self.etc / "frr.conf").write_text(self.config)
        (self.etc / "frr.conf").chmod(0o640)
        for path in self.etc.iterdir():
            shutil.chown(path, "frr", "frr")
        run(FRRINIT, "start", self.pathspace)

    def _sshd(self) -> None:
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.dir / "host_ed25519"))
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key_file))
        shutil.copy(self.key_file.with_suffix(".pub"), self.dir / "authorized_keys")
        config = self.dir / "sshd_config"
        config.write_text(SSHD_CONFIG.format(address=self.hostname, dir=self.dir))
        Path("/run/sshd").mkdir(exist_ok=True)
        mounts = (
            f"hostname {self.router_hostname}"
            f" && mount --bind {self.etc} {FRR_ETC}"
            f" && mount --bind {FRR_RUN / self.pathspace} {FRR_RUN}"
            f" && exec /usr/sbin/sshd -f {config}"
        )
        run("ip", "netns", "exec", self.netns, "unshare", "--uts", "--mount",
            "--propagation", "private", "sh", "-c", mounts)  # fmt: skip
        pid_file = self.dir / "sshd.pid"
        deadline = time.monotonic() + 5
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.sshd_pid = int(pid_file.read_text())

    def vtysh(self, *commands: str) -> str:
        """Run vtysh commands on this router from the root namespace."""
        args = [arg for command in commands for arg in ("-c", command)]
        return run("vtysh", "-N", self.pathspace, *args)

    def destroy(self) -> None:
        """Remove everything :meth:`create` made (safe on a half-built router)."""
        if (FRR_RUN / self.pathspace).exists():
            subprocess.run([FRRINIT, "stop", self.pathspace], capture_output=True, check=False)
        # What is left in the namespace was started here: sshd and the
        # driver's commit-confirm timers, started through that sshd.
        pids = subprocess.run(
            ["ip", "netns", "pids", self.netns], capture_output=True, text=True, check=False
        ).stdout.split()
        for pid in {*pids, *([str(self.sshd_pid)] if self.sshd_pid else [])}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGTERM)
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", self.root_veth], capture_output=True, check=False)
        shutil.rmtree(self.etc, ignore_errors=True)
        shutil.rmtree(FRR_RUN / self.pathspace, ignore_errors=True)
        shutil.rmtree(self.dir, ignore_errors=True)
