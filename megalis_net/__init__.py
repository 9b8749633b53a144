"""megalis-net: inventory, audit and provisioning for the Mégalis II network."""

__version__ = "0.1.0"
