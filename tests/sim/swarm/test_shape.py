"""The shape comparison the fidelity test relies on: it must see what differs."""
from __future__ import annotations

from tests.sim.swarm.shape import differences


def test_same_shape_with_different_values_agrees():
    real = [{"ID": "a", "Spec": {"Labels": {"x": "1"}, "Role": "manager"}, "Tags": [1, 2]}]
    emulated = [{"ID": "b", "Spec": {"Labels": {"y": "2"}, "Role": "manager"}, "Tags": [3]}]
    assert differences(real, emulated) == []


def test_a_missing_key_is_reported():
    assert differences([{"ID": "a", "Version": {"Index": 1}}], [{"ID": "a"}]) == [
        "Version: missing in the emulator (real: ['object'])", "Version.Index: missing in the emulator (real: ['number'])"]


def test_an_extra_key_is_reported():
    assert differences([{"ID": "a"}], [{"ID": "a", "Extra": True}]) == ["Extra: only in the emulator (['bool'])"]


def test_a_different_type_is_reported():
    assert differences([{"Slot": 1}], [{"Slot": "1"}]) == ["Slot: types differ (real ['number'], emulated ['string'])"]


def test_an_enum_value_outside_the_engine_set_is_reported():
    found = differences([{"Spec": {"Role": "manager"}}], [{"Spec": {"Role": "boss"}}])
    assert "Spec.Role: emulated values ['boss'] not in the engine's enum" in found


def test_null_is_compatible_with_a_list():
    assert differences([{"Warnings": None}], [{"Warnings": ["x"]}]) == ["Warnings[]: only in the emulator (['string'])"]
