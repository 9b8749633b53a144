"""SNMP credentials: named in the inventory, read from the environment.

The inventory (``inventory/defaults.yaml``, a group or a host, under
``data.snmp``) says which SNMP version to use and which environment variables
hold the secrets; the secrets themselves are never in the repository::

    snmp:
      version: "3"              # or "2c"
      community_env: MEGALIS_SNMP_COMMUNITY        # 2c
      user_env: MEGALIS_SNMP_USER                  # 3
      auth_key_env: MEGALIS_SNMP_AUTH_KEY
      priv_key_env: MEGALIS_SNMP_PRIV_KEY
      auth_protocol: sha        # sha, sha256, md5
      priv_protocol: aes        # aes, aes256, des
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from megalis_net.errors import MegalisError
from megalis_net.pydantic_errors import dotted, located_errors


class CredentialsError(MegalisError):
    """The inventory's SNMP settings are wrong, or a variable they name is unset."""


@dataclass(frozen=True, slots=True)
class V2c:
    community: str

    def __repr__(self) -> str:  # never print a secret
        return "V2c(community=***)"


@dataclass(frozen=True, slots=True)
class V3:
    user: str
    auth_key: str
    priv_key: str
    auth_protocol: str = "sha"
    priv_protocol: str = "aes"

    @property
    def fingerprint(self) -> str:
        """A name for this user and key set that does not reveal the keys."""
        keys = "\0".join((self.auth_key, self.priv_key, self.auth_protocol, self.priv_protocol))
        return f"{self.user}-{hashlib.sha256(keys.encode()).hexdigest()[:16]}"

    def __repr__(self) -> str:
        return f"V3(user={self.user!r}, auth={self.auth_protocol}, priv={self.priv_protocol})"


Credentials = V2c | V3


class SnmpSettings(BaseModel):
    """``data.snmp`` of the Nornir inventory: names of variables, no secrets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal["2c", "3"] = "2c"
    community_env: str = "MEGALIS_SNMP_COMMUNITY"
    user_env: str = "MEGALIS_SNMP_USER"
    auth_key_env: str = "MEGALIS_SNMP_AUTH_KEY"
    priv_key_env: str = "MEGALIS_SNMP_PRIV_KEY"
    auth_protocol: Literal["sha", "sha256", "md5"] = "sha"
    priv_protocol: Literal["aes", "aes256", "des"] = "aes"

    @classmethod
    def parse(cls, raw: Any, where: str) -> SnmpSettings:
        try:
            return cls.model_validate(raw or {})
        except ValidationError as exc:
            loc, message = located_errors(exc)[0]
            raise CredentialsError(f"{where}: snmp.{dotted(loc)} {message}") from None

    def resolve(self, environ: Mapping[str, str], host: str) -> Credentials:
        def read(name: str) -> str:
            value = environ.get(name)
            if not value:
                raise CredentialsError(f"{host}: ${name} is not set (SNMP v{self.version})")
            return value

        if self.version == "2c":
            return V2c(read(self.community_env))
        for name in (self.auth_key_env, self.priv_key_env):
            # USM derives keys from pass phrases of at least 8 characters
            if len(read(name)) < 8:
                raise CredentialsError(f"{host}: ${name} is shorter than 8 characters")
        return V3(
            read(self.user_env),
            read(self.auth_key_env),
            read(self.priv_key_env),
            self.auth_protocol,
            self.priv_protocol,
        )


def inventory_settings(hosts: Mapping[str, tuple[Any, str]]) -> dict[str, SnmpSettings]:
    """Each host's ``snmp`` settings from (its ``snmp`` data, where that was read)."""
    return {host: SnmpSettings.parse(raw, where) for host, (raw, where) in hosts.items()}
