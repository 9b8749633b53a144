"""Interface naming per platform: vendor differences as data."""

from __future__ import annotations

from dataclasses import dataclass

from megalis_net.intent.model import PortRole
from megalis_net.model import Platform


@dataclass(frozen=True)
class Naming:
    loopback: str
    management: str
    ports: dict[PortRole, str]  # format string with {n}, the port's index in its role

    def port(self, role: PortRole, n: int) -> str:
        return self.ports[role].format(n=n)

    @staticmethod
    def sub(port: str, unit: int) -> str:
        """Examples:
        >>> Naming.sub("ge-0/2/0", 1234)
        'ge-0/2/0.1234'
        """
        return f"{port}.{unit}"


NAMING: dict[Platform, Naming] = {
    # The lab's Linux names: short (15 characters at most with the VLAN suffix).
    Platform.FRR: Naming(
        loopback="lo",
        management="mgmt0",
        ports={
            PortRole.BACKBONE: "bb{n}",
            PortRole.UPSTREAM: "up{n}",
            PortRole.ACCESS: "acc{n}",
            PortRole.HANDOFF: "l2h{n}",
        },
    ),
    Platform.IOSXR: Naming(
        loopback="Loopback0",
        management="MgmtEth0/RP0/CPU0/0",
        ports={
            PortRole.BACKBONE: "TenGigE0/0/0/{n}",
            PortRole.UPSTREAM: "TenGigE0/0/1/{n}",
            PortRole.ACCESS: "GigabitEthernet0/0/2/{n}",
            PortRole.HANDOFF: "GigabitEthernet0/0/3/{n}",
        },
    ),
    Platform.JUNOS: Naming(
        loopback="lo0",
        management="fxp0",
        ports={
            PortRole.BACKBONE: "xe-0/0/{n}",
            PortRole.UPSTREAM: "xe-0/1/{n}",
            PortRole.ACCESS: "ge-0/2/{n}",
            PortRole.HANDOFF: "ge-0/3/{n}",
        },
    ),
}
