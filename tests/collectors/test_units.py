"""Kubernetes quantities: every suffix, fractions, exponents, numbers from recorded YAML."""
from decimal import Decimal

import pytest

from collectors.units import QuantityError, cpu_cores, mem_bytes, parse_quantity


@pytest.mark.parametrize("text, value", [
    ("1Ki", 1024), ("1Mi", 1024 ** 2), ("1Gi", 1024 ** 3), ("1Ti", 1024 ** 4), ("1Pi", 1024 ** 5),
    ("1Ei", 1024 ** 6), ("8165556Ki", 8361529344), ("1.5Gi", 1610612736),
])
def test_binary_suffixes_are_powers_of_1024(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text, value", [
    ("1n", Decimal("1e-9")), ("1u", Decimal("1e-6")), ("1m", Decimal("0.001")), ("1", 1), ("1k", 1000),
    ("1M", 10 ** 6), ("1G", 10 ** 9), ("1T", 10 ** 12), ("1P", 10 ** 15), ("1E", 10 ** 18),
])
def test_decimal_suffixes_are_powers_of_1000(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text, value", [
    ("1e3", 1000), ("1E3", 1000), ("2e-3", Decimal("0.002")), ("1.5e+2", 150), ("12E0", 12),
])
def test_decimal_exponents(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text, value", [(".5", Decimal("0.5")), ("0.25", Decimal("0.25")), ("+3", 3), ("-1", -1),
                                         ("5.", 5)])
def test_signs_and_fractions(text, value):
    assert parse_quantity(text) == value


def test_cpu_in_cores_from_millicores_and_nanocores():
    assert cpu_cores("250m") == 0.25
    assert cpu_cores("487558164n") == pytest.approx(0.487558164)
    assert cpu_cores("4") == 4.0
    assert cpu_cores("100u") == pytest.approx(0.0001)


def test_memory_in_bytes_rounds_a_fractional_byte_up():
    assert mem_bytes("128Mi") == 134217728
    assert mem_bytes("1.5k") == 1500
    assert mem_bytes("100m") == 1  # 0.1 byte: Kubernetes' Value() rounds up
    assert mem_bytes("1e3") == 1000


def test_numbers_from_recorded_yaml_are_accepted():
    assert cpu_cores(20) == 20.0
    assert mem_bytes(1024) == 1024
    assert cpu_cores(0.5) == 0.5


def test_missing_quantities_are_zero():
    assert cpu_cores(None) == 0.0
    assert mem_bytes("") == 0


@pytest.mark.parametrize("text", ["", "abc", "1Kb", "1 Gi", "Gi", "1.2.3", "1ki", "1e", "--1"])
def test_malformed_quantities_are_refused(text):
    with pytest.raises(QuantityError):
        parse_quantity(text)


def test_booleans_are_not_quantities():
    with pytest.raises(QuantityError):
        parse_quantity(True)  # type: ignore[arg-type]
