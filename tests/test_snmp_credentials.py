"""SNMP credentials: inventory settings name variables; the environment holds secrets."""

from __future__ import annotations

import pytest

from megalis_net.snmp import V3, CredentialsError, SnmpSettings, V2c

V3_ENV = {
    "MEGALIS_SNMP_USER": "poller",
    "MEGALIS_SNMP_AUTH_KEY": "authpass1",
    "MEGALIS_SNMP_PRIV_KEY": "privpass1",
}


def test_v2c_reads_the_community_from_the_named_variable() -> None:
    settings = SnmpSettings.parse({"community_env": "RO_COMMUNITY"}, "inventory/defaults.yaml")
    assert settings.resolve({"RO_COMMUNITY": "s3cret"}, "pe-rennes") == V2c("s3cret")


def test_no_settings_mean_v2c_with_the_default_variable() -> None:
    settings = SnmpSettings.parse(None, "inventory/defaults.yaml")
    assert settings.resolve({"MEGALIS_SNMP_COMMUNITY": "c"}, "pe-brest") == V2c("c")


def test_v3_reads_user_and_keys() -> None:
    settings = SnmpSettings.parse({"version": "3", "priv_protocol": "aes256"}, "hosts.yaml")
    assert settings.resolve(V3_ENV, "pe-brest") == V3(
        "poller", "authpass1", "privpass1", "sha", "aes256"
    )


@pytest.mark.parametrize(
    ("raw", "environ", "message"),
    [
        ({}, {}, r"pe-vannes: \$MEGALIS_SNMP_COMMUNITY is not set \(SNMP v2c\)"),
        ({"community_env": "X"}, {"X": ""}, r"pe-vannes: \$X is not set"),
        (
            {"version": "3"},
            {k: v for k, v in V3_ENV.items() if k != "MEGALIS_SNMP_PRIV_KEY"},
            r"pe-vannes: \$MEGALIS_SNMP_PRIV_KEY is not set \(SNMP v3\)",
        ),
        (
            {"version": "3"},
            {**V3_ENV, "MEGALIS_SNMP_AUTH_KEY": "short"},
            r"pe-vannes: \$MEGALIS_SNMP_AUTH_KEY is shorter than 8 characters",
        ),
    ],
    ids=["v2c-unset", "v2c-empty", "v3-missing-priv-key", "v3-short-auth-key"],
)
def test_resolve_errors_name_host_and_variable(
    raw: dict[str, str], environ: dict[str, str], message: str
) -> None:
    settings = SnmpSettings.parse(raw, "inventory/defaults.yaml")
    with pytest.raises(CredentialsError, match=message):
        settings.resolve(environ, "pe-vannes")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"comunity_env": "X"}, r"hosts.yaml: snmp.comunity_env is not a known field"),
        ({"version": "1"}, r"hosts.yaml: snmp.version .*'1'"),
        ({"auth_protocol": "sha512"}, r"hosts.yaml: snmp.auth_protocol .*'sha512'"),
    ],
    ids=["unknown-field", "version-1", "unknown-auth-protocol"],
)
def test_parse_errors_name_file_and_field(raw: dict[str, str], message: str) -> None:
    with pytest.raises(CredentialsError, match=message):
        SnmpSettings.parse(raw, "hosts.yaml")


def test_secrets_never_show_in_repr() -> None:
    assert "s3cret" not in repr(V2c("s3cret"))
    v3 = V3("poller", "authpass1", "privpass1")
    assert "authpass1" not in repr(v3) and "privpass1" not in repr(v3)
    assert "authpass1" not in v3.fingerprint
