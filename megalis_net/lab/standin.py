"""A stand-in SNMP agent: a namespace with many interfaces and its own snmpd.

For the SNMP benchmarks and tests, apart from the lab: no FRR, no routers,
only what a poller sees. A veth pair joins the root namespace (``.1`` of a
/30) to the stand-in (``.2``, where snmpd listens); the interfaces are veth
pairs inside the namespace (this kernel has no ``dummy``), every other one
down, one end of each with an ifAlias, so that names, statuses and aliases
all vary.

Names start with ``mgxb-`` so that they never collide with the lab's ``mgx-``.
"""

from __future__ import annotations

import ipaddress
import shutil
from dataclasses import dataclass
from pathlib import Path

from megalis_net.lab.daemons import Snmpd
from megalis_net.lab.system import ip_batch, links, namespaces, require_root, run
from megalis_net.snmp.credentials import V3

PREFIX = "mgxb-"
IF_ALIAS = ".1.3.6.1.2.1.31.1.1.1.18"

SNMPD_CONF = """\
# stand-in agent {netns}: IF-MIB of its own namespace only
agentAddress udp:{address}:161
rocommunity {community} {client}/32
createUser {user} SHA "{auth_key}" AES "{priv_key}"
rouser {user} priv
dontLogTCPWrappersConnects yes
"""


@dataclass(frozen=True, slots=True)
class StandIn:
    """One namespace ``netns`` whose snmpd answers on ``address``."""

    netns: str
    network: str  # a /30: .1 in the root namespace, .2 in the stand-in
    pairs: int  # veth pairs inside: 2 x pairs interfaces (+ lo and the uplink)
    community: str
    v3: V3
    directory: Path

    def __post_init__(self) -> None:
        if not self.netns.startswith(PREFIX):
            raise ValueError(f"{self.netns}: stand-in namespaces start with {PREFIX}")

    @property
    def _hosts(self) -> tuple[str, str]:
        client, agent = list(ipaddress.ip_network(self.network).hosts())[:2]
        return str(client), str(agent)

    @property
    def address(self) -> str:
        return self._hosts[1]

    @property
    def uplink(self) -> str:
        """The root-side veth: interface names are at most 15 characters."""
        return ("b-" + self.netns.removeprefix(PREFIX))[:15]

    @property
    def snmpd(self) -> Snmpd:
        return Snmpd(self.netns, self.directory)

    def up(self) -> None:
        """Create the namespace, its interfaces and snmpd (~2 s for 3000 interfaces)."""
        require_root()
        if self.netns in namespaces():
            raise ValueError(f"{self.netns} exists already: remove it first (down)")
        client, agent = self._hosts
        run(["ip", "netns", "add", self.netns])
        ip_batch(
            [
                f"link add {self.uplink} type veth peer name uplink netns {self.netns}",
                f"addr add {client}/30 dev {self.uplink}",
                f"link set {self.uplink} up",
            ]
        )
        ip_batch(self._inside(agent), self.netns)
        config = SNMPD_CONF.format(
            netns=self.netns,
            address=agent,
            community=self.community,
            client=client,
            user=self.v3.user,
            auth_key=self.v3.auth_key,
            priv_key=self.v3.priv_key,
        )
        self.snmpd.ensure(config + "".join(self._aliases()))

    def _aliases(self) -> list[str]:
        """ifAlias of every other interface, by ifIndex: net-snmp does not read
        Linux's interface alias. Longer than 16 bytes (where net-snmp wraps its
        hex dumps), with spaces and UTF-8, as a site's name is."""
        found = links(self.netns)
        return [
            f"override {IF_ALIAS}.{found[f's{n}a']['ifindex']} octet_str"
            f' "MEG-{n:05d} Mairie de Plérin - site {n}"\n'
            for n in range(self.pairs)
        ]

    def _inside(self, agent: str) -> list[str]:
        lines = [f"addr add {agent}/30 dev uplink", "link set uplink up", "link set lo up"]
        for n in range(self.pairs):
            a, b = f"s{n}a", f"s{n}b"
            lines.append(f"link add {a} type veth peer name {b}")
            if n % 2 == 0:  # the other half stays down: both statuses show
                lines.append(f"link set {a} up")
                lines.append(f"link set {b} up")
        return lines

    def down(self) -> None:
        """Stop snmpd (by its PID) and remove the namespace and the root-side veth."""
        self.snmpd.stop()
        if self.netns in namespaces():
            run(["ip", "netns", "del", self.netns])
        # the root end may outlive the namespace for a moment (LAB.md, Cleanup)
        run(["ip", "link", "del", self.uplink], check=False)
        shutil.rmtree(self.directory, ignore_errors=True)
