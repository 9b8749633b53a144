"""The pure parts of the NetBox sync: desired state, normalisation of NetBox's JSON, the diff.

No server here (the ``netbox`` tier in test_netbox.py runs against the real one).
"""

from __future__ import annotations

from typing import Any

import pytest

from megalis_net.ipam import Allocations
from megalis_net.model import Network
from megalis_net.netbox.desired import desired_state
from megalis_net.netbox.names import TAG
from megalis_net.netbox.plan import Action, plan, same
from megalis_net.netbox.read import normalize
from megalis_net.netbox.state import KINDS, MANAGED_FIELDS, Ref, State, empty_state
from megalis_net.netbox.sync import _waves

TAGS = [Ref("extras.tags", (TAG,))]


def state(endpoint: str, **objects: dict[str, Any]) -> State:
    out = empty_state()
    out[endpoint] = {(key,): fields for key, fields in objects.items()}
    return out


def test_missing_objects_are_created() -> None:
    want = state("dcim.regions", bzh={"slug": "bzh", "name": "Bretagne", "tags": TAGS})
    todo = plan(want, empty_state(), TAG)
    assert [(c.action, c.key) for c in todo.changes] == [(Action.CREATE, ("bzh",))]


def test_identical_state_plans_nothing() -> None:
    want = state("dcim.regions", bzh={"slug": "bzh", "name": "Bretagne", "tags": TAGS})
    have = state("dcim.regions", bzh={"slug": "bzh", "name": "Bretagne", "tags": TAGS, "id": 4})
    assert plan(want, have, TAG).changes == ()


def test_update_carries_only_the_changed_fields_and_their_old_values() -> None:
    want = state("circuits.circuits", c1={"cid": "c1", "commit_rate": 100_000, "tags": TAGS})
    have = state("circuits.circuits", c1={"cid": "c1", "commit_rate": 50_000, "tags": TAGS})
    (change,) = plan(want, have, TAG).changes
    assert change.action is Action.UPDATE
    assert change.fields == {"commit_rate": 100_000}
    assert change.before == {"commit_rate": 50_000}


def test_objects_without_the_tag_are_never_changed_nor_deleted() -> None:
    want = state("dcim.sites", mine={"slug": "mine", "name": "X", "tags": TAGS})
    have = state(
        "dcim.sites",
        mine={"slug": "mine", "name": "changed by hand, untagged", "tags": []},
        theirs={"slug": "theirs", "name": "someone else's", "tags": []},
    )
    todo = plan(want, have, TAG)
    assert todo.changes == ()
    assert todo.foreign == (("dcim.sites", ("mine",)),)


def test_only_tagged_objects_no_longer_wanted_are_deleted() -> None:
    have = state(
        "dcim.sites",
        gone={"slug": "gone", "tags": TAGS},
        theirs={"slug": "theirs", "tags": [Ref("extras.tags", ("other",))]},
    )
    todo = plan(empty_state(), have, TAG)
    assert [(c.action, c.key) for c in todo.changes] == [(Action.DELETE, ("gone",))]


def test_deletes_come_children_first() -> None:
    have = empty_state()
    have["dcim.sites"] = {("s",): {"tags": TAGS}}
    have["dcim.interfaces"] = {("d", "eth0"): {"tags": TAGS}}
    endpoints = [c.endpoint for c in plan(empty_state(), have, TAG).changes]
    assert endpoints == ["dcim.interfaces", "dcim.sites"]


@pytest.mark.parametrize(
    ("want", "have", "field", "expected"),
    [
        (48.1198, 48.119800000000001, "latitude", True),
        (48.1198, 48.1199, "latitude", False),
        ({"a": 1}, {"a": 1, "other": 2}, "custom_fields", True),
        ({"a": 1}, {"a": 2}, "custom_fields", False),
        (TAGS, [*TAGS, Ref("extras.tags", ("someone",))], "tags", True),
        (TAGS, [], "tags", False),
        (None, None, "tenant", True),
        ([Ref("ipam.route-targets", ("1:1",))], [], "import_targets", False),
    ],
    ids=[
        "float-rounding",
        "float-differs",
        "other-custom-fields-ignored",
        "custom-field-differs",
        "other-tags-ignored",
        "tag-missing",
        "both-none",
        "list-differs",
    ],
)
def test_same(want: Any, have: Any, field: str, expected: bool) -> None:
    assert same(want, have, field) is expected


def test_objects_referring_to_their_own_kind_wait_for_them() -> None:
    want = empty_state()
    kind = next(k for k in KINDS if k.endpoint == "dcim.interfaces")
    parent = {"device": Ref("dcim.devices", ("d",)), "name": "eth0"}
    child = {"device": Ref("dcim.devices", ("d",)), "name": "eth0.100",
             "parent": Ref("dcim.interfaces", ("d", "eth0"))}  # fmt: skip
    want["dcim.interfaces"] = {("d", "eth0.100"): child, ("d", "eth0"): parent}
    creates = plan(want, empty_state(), TAG).of(Action.CREATE)
    waves = _waves(kind, creates)
    assert [[c.key for c in wave] for wave in waves] == [[("d", "eth0")], [("d", "eth0.100")]]


def test_desired_state_is_deterministic_and_tagged(
    render_network: tuple[Network, Allocations],
) -> None:
    network, allocations = render_network
    first = desired_state(network, allocations)
    assert first == desired_state(network, allocations)
    owned_kinds = [k for k in KINDS if k.owned]
    for kind in owned_kinds:
        for key, fields in first[kind.endpoint].items():
            assert Ref("extras.tags", (TAG,)) in fields["tags"], (kind.endpoint, key)


def test_only_managed_fields_are_written(render_network: tuple[Network, Allocations]) -> None:
    """NetBox is read back with only MANAGED_FIELDS: any other field would always differ."""
    want = desired_state(*render_network)
    unread = {
        (endpoint, name)
        for endpoint, objects in want.items()
        for fields in objects.values()
        for name in fields
        if name not in MANAGED_FIELDS[endpoint]
    }
    assert unread == set()


def test_every_reference_points_at_a_desired_object(
    render_network: tuple[Network, Allocations],
) -> None:
    want = desired_state(*render_network)
    dangling = [
        (endpoint, key, value)
        for endpoint, objects in want.items()
        for key, fields in objects.items()
        for value in _refs(fields)
        if value.key not in want.get(value.endpoint, {})
    ]
    assert dangling == []


def _refs(fields: dict[str, Any]) -> list[Ref]:
    values = [v for v in fields.values() if isinstance(v, Ref)]
    values += [r for v in fields.values() if isinstance(v, list) for r in v if isinstance(r, Ref)]
    return values


def test_netbox_json_normalises_to_references_by_key() -> None:
    raw = {
        "dcim.devices": [{"id": 7, "name": "pe-brest", "tags": [{"id": 1, "slug": TAG}]}],
        "dcim.interfaces": [
            {"id": 3, "device": {"id": 7, "name": "pe-brest"}, "name": "bb0",
             "type": {"value": "10gbase-x-sfpp", "label": "SFP+ (10GE)"}, "parent": None},
        ],
        "ipam.ip-addresses": [
            {"id": 9, "address": "10.0.1.0/31", "vrf": None, "role": None,
             "assigned_object_type": "dcim.interface", "assigned_object_id": 3},
        ],
    }  # fmt: skip
    snapshot = normalize(raw)
    iface = snapshot.state["dcim.interfaces"][("pe-brest", "bb0")]
    assert iface["device"] == Ref("dcim.devices", ("pe-brest",))
    assert iface["type"] == "10gbase-x-sfpp"
    address = snapshot.state["ipam.ip-addresses"][("", "10.0.1.0/31")]
    assert address["assigned_object"] == Ref("dcim.interfaces", ("pe-brest", "bb0"))
    assert snapshot.ids["ipam.ip-addresses"][("", "10.0.1.0/31")] == 9
    assert snapshot.state["dcim.devices"][("pe-brest",)]["tags"] == TAGS
