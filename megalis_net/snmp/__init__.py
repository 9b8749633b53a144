"""SNMP: credentials from the inventory, and the IF-MIB poller."""

from megalis_net.snmp.credentials import V3, Credentials, CredentialsError, SnmpSettings, V2c
from megalis_net.snmp.poller import (
    COLUMN_NAMES,
    COLUMNS,
    Agent,
    AgentPoll,
    Interface,
    PollSettings,
    poll,
    poll_async,
)

__all__ = [
    "COLUMNS",
    "COLUMN_NAMES",
    "V3",
    "Agent",
    "AgentPoll",
    "Credentials",
    "CredentialsError",
    "Interface",
    "PollSettings",
    "SnmpSettings",
    "V2c",
    "poll",
    "poll_async",
]
