"""NAPALM driver for FRR, the lab routers' platform.

Installed also as the top-level package ``napalm_frr`` (pyproject.toml maps
it onto this folder), which is where ``napalm.get_network_driver("frr")``
and Nornir's ``platform: frr`` look for a community driver. Imports are
absolute so that both names share one ``FrrDriver`` class.
"""

from __future__ import annotations

from megalis_net.napalm_frr.driver import FrrDriver

__all__ = ["FrrDriver"]
