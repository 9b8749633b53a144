"""The daemons of a lab router: FRR (its own pathspace), sshd and snmpd.

Every router gets its own UTS namespace, so that its hostname is its own and
FRR prints it back as configured (``show running-config`` shows the system's
hostname). sshd also gets a private mount namespace in which the router's FRR
folders are bind-mounted on the standard paths: a plain ``vtysh`` or
``frr-reload.py`` run over SSH then acts on that router (see LAB.md).
"""

from __future__ import annotations

import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

from megalis_net.lab.system import LabError, pid_of, run, stop_pid, stop_pids, wait_for_pid

FRR_ETC = Path("/etc/frr")
FRR_RUN = Path("/var/run/frr")
FRRINIT = "/usr/lib/frr/frrinit.sh"
PE_DAEMONS = ("zebra", "bgpd", "isisd", "staticd")
UPSTREAM_DAEMONS = ("zebra", "bgpd", "staticd")

# Run by watchfrr_wrap: a new UTS namespace named after the router, then FRR.
UTS_WRAPPER = """#!/bin/sh
# $1: the router's hostname; the rest: the command to run with it.
name=$1; shift
exec unshare --uts sh -c 'hostname "$0" && exec "$@"' "$name" "$@"
"""


@dataclass(frozen=True, slots=True)
class Frr:
    """One FRR instance: pathspace and network namespace share the name."""

    pathspace: str
    hostname: str
    daemons: tuple[str, ...]

    @property
    def etc(self) -> Path:
        return FRR_ETC / self.pathspace

    @property
    def run_dir(self) -> Path:
        return FRR_RUN / self.pathspace

    def running(self) -> list[str]:
        """The daemons that are up (watchfrr included)."""
        return [
            daemon
            for daemon in ("watchfrr", *self.daemons)
            if pid_of(self.run_dir / f"{daemon}.pid") is not None
        ]

    def start(self, config: str, wrapper: Path) -> None:
        """Write the startup config, then start: a cold load from the file is
        the fast way for thousands of stanzas (frr-reload.py takes minutes)."""
        self.etc.mkdir(parents=True, exist_ok=True)
        daemons = (FRR_ETC / "daemons").read_text()
        for daemon in self.daemons:
            daemons = daemons.replace(f"{daemon}=no", f"{daemon}=yes")
        wrap = shlex.quote(f"{wrapper} {self.hostname}")
        (self.etc / "daemons").write_text(
            f'{daemons}\nwatchfrr_options="--netns"\nwatchfrr_wrap={wrap}\n'
        )
        (self.etc / "vtysh.conf").write_text("service integrated-vtysh-config\n")
        (self.etc / "frr.conf").write_text(config)
        for path in (self.etc, *self.etc.iterdir()):
            shutil.chown(path, "frr", "frr")
        (self.etc / "frr.conf").chmod(0o640)
        run([FRRINIT, "start", self.pathspace], timeout=60)
        if "watchfrr" not in self.running():
            raise LabError(f"FRR did not start in {self.pathspace} (see syslog or frrinit.sh)")

    def pids(self) -> list[int]:
        """watchfrr first: it would restart the daemons it sees die."""
        found = (pid_of(self.run_dir / f"{d}.pid") for d in ("watchfrr", *self.daemons))
        return [pid for pid in found if pid is not None]

    def remove_files(self) -> None:
        shutil.rmtree(self.etc, ignore_errors=True)
        shutil.rmtree(self.run_dir, ignore_errors=True)


def stop_frr(instances: list[Frr]) -> None:
    """Stop many instances at once, by PID (``frrinit.sh stop`` takes ~5 s each)."""
    stop_pids(pid for frr in instances for pid in frr.pids())
    for frr in instances:
        frr.remove_files()


class PidFileDaemon:
    """A daemon of one router that records its PID in ``<directory>/<name>.pid``."""

    name: str
    directory: Path

    @property
    def pid_file(self) -> Path:
        return self.directory / f"{self.name}.pid"

    def pid(self) -> int | None:
        return pid_of(self.pid_file)

    def stop(self) -> None:
        pid = self.pid()
        if pid is not None:
            stop_pid(pid)

    def started(self, netns: str) -> None:
        if wait_for_pid(self.pid_file) is None:
            raise LabError(f"{self.name} did not start in {netns}")


@dataclass(frozen=True)
class Sshd(PidFileDaemon):
    netns: str
    hostname: str
    directory: Path
    name: str = "sshd"

    def start(self, config: str, frr: Frr) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        key = self.directory / "ssh_host_ed25519_key"
        if not key.exists():
            run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", self.hostname, "-f", str(key)]
            )
        conf = self.directory / "sshd_config"
        conf.write_text(config)
        Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation folder
        inside = (
            'hostname "$0"'
            f" && mount --bind {shlex.quote(str(frr.etc))} {FRR_ETC}"
            f" && mount --bind {shlex.quote(str(frr.run_dir))} {FRR_RUN}"
            f" && exec /usr/sbin/sshd -f {shlex.quote(str(conf))}"
        )
        command = ["ip", "netns", "exec", self.netns, "unshare", "--uts", "--mount"]
        run([*command, "--propagation", "private", "sh", "-c", inside, self.hostname])
        self.started(self.netns)


@dataclass(frozen=True)
class Snmpd(PidFileDaemon):
    netns: str
    directory: Path
    name: str = "snmpd"

    @property
    def conf(self) -> Path:
        return self.directory / "snmpd.conf"

    def ensure(self, config: str) -> None:
        """Start it, or restart it when its config changed (ifIndex overrides)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        unchanged = self.conf.exists() and self.conf.read_text() == config
        if unchanged and self.pid() is not None:
            return
        self.stop()
        self.conf.write_text(config)
        self.conf.chmod(0o600)  # it holds the community
        # Its persistent state goes apart: snmpd writes it to a file named snmpd.conf.
        # MIBS= : Debian ships no IETF MIB files, and snmpd floods its log looking for them
        run(
            [
                "ip", "netns", "exec", self.netns,
                "env", "MIBS=", f"SNMP_PERSISTENT_DIR={self.directory / 'snmp-state'}",
                "/usr/sbin/snmpd", "-C", "-c", str(self.conf), "-p", str(self.pid_file),
                "-Lf", str(self.directory / "snmpd.log"),
            ]
        )  # fmt: skip
        self.started(self.netns)
