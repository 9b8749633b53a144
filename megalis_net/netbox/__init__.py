"""NetBox as the source of truth: push the model, read it back, find drift.

``sync`` writes the model (read once in large pages, diff locally, write only
the changes in bulk); ``load_from_netbox`` rebuilds the same ``Network`` and
``Allocations`` from what NetBox holds; ``drift`` is ``sync`` without writing.
"""

from megalis_net.netbox.client import NetBox, NetBoxError, Settings
from megalis_net.netbox.load import load_from_netbox
from megalis_net.netbox.sync import SyncReport, sync

__all__ = ["NetBox", "NetBoxError", "Settings", "SyncReport", "load_from_netbox", "sync"]
