"""The Nornir inventory: Nornir itself reads it; no credential is stored in clear."""

from __future__ import annotations

import pytest
from nornir import InitNornir

from tests.conftest import ROOT


def test_nornir_reads_one_pe_per_pop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    nornir = InitNornir(config_file="nornir_config.yaml")
    hosts = nornir.inventory.hosts
    assert len(hosts) == 8
    assert {host["pop"] for host in hosts.values()} == {
        "rennes", "vannes", "lorient", "quimper", "brest", "lannion", "saint-brieuc", "saint-malo",
    }  # fmt: skip
    assert {host.platform for host in hosts.values()} == {"frr"}
    assert hosts["pe-brest"].hostname == "10.0.2.5"


def test_credentials_are_references_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    defaults = InitNornir(config_file="nornir_config.yaml").inventory.defaults
    assert defaults.username is None and defaults.password is None
    assert defaults.data["credentials"] == {
        "username_env": "MEGALIS_USERNAME",
        "password_env": "MEGALIS_PASSWORD",
    }
    for path in (ROOT / "inventory").glob("*.yaml"):
        text = path.read_text(encoding="utf-8").replace("password_env:", "")
        assert "password:" not in text, path
