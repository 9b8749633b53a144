"""A Nornir inventory from NetBox, through the same loader as ``--source netbox``.

Not nornir-netbox: its NetBoxInventory2 reads NetBox's raw device records
(``role`` vs ``device_role``, no ``napalm_driver`` in NetBox 4), while this
gives Nornir the hosts exactly as the files' SimpleInventory does (one group
per platform, ``data.pop``, the management address as hostname), from the
validated model. Use it in a Nornir config as::

    inventory:
      plugin: MegalisNetBoxInventory
      options: {url: http://127.0.0.1:8765, token: ...}   # or the environment
"""

from __future__ import annotations

from nornir.core.inventory import (
    Defaults,
    Group,
    Groups,
    Host,
    Hosts,
    Inventory,
    ParentGroups,
)
from nornir.core.plugins.inventory import InventoryPluginRegister

from megalis_net.model import Network
from megalis_net.netbox.client import NetBox, Settings
from megalis_net.netbox.load import load_from_netbox

PLUGIN = "MegalisNetBoxInventory"


def inventory_of(network: Network) -> Inventory:
    """Hosts and platform groups of a model, as inventory/hosts.yaml and groups.yaml hold them."""
    defaults = Defaults()
    groups = Groups(
        {
            platform: Group(name=platform, platform=platform, defaults=defaults)
            for platform in sorted({d.platform.value for d in network.devices})
        }
    )
    hosts = Hosts(
        {
            d.name: Host(
                name=d.name,
                hostname=str(d.mgmt_address),
                groups=ParentGroups([groups[d.platform.value]]),
                data={"pop": d.pop},
                defaults=defaults,
            )
            for d in network.devices
        }
    )
    return Inventory(hosts=hosts, groups=groups, defaults=defaults)


class MegalisNetBoxInventory:
    """Nornir inventory plugin: the PE routers as NetBox holds them."""

    def __init__(self, url: str | None = None, token: str | None = None) -> None:
        self.settings = Settings.from_env(url, token)

    def load(self) -> Inventory:
        network, _ = load_from_netbox(NetBox(self.settings))
        return inventory_of(network)


def register() -> None:
    """Make ``MegalisNetBoxInventory`` known to ``InitNornir`` (idempotent)."""
    if PLUGIN not in InventoryPluginRegister.available:
        InventoryPluginRegister.register(PLUGIN, MegalisNetBoxInventory)
