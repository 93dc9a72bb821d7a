"""The registry the core reads instead of naming orchestrators."""
from __future__ import annotations

import dataclasses
from typing import get_args

import pytest

import collectors
from fleet import orchestrators
from fleet.model import Orchestrator


def test_the_models_orchestrator_names_are_the_built_in_collectors():
    assert get_args(Orchestrator) == tuple(facts.name for facts in collectors.BUILT_IN)
    assert set(get_args(Orchestrator)) <= set(orchestrators.names())


def test_every_built_in_collector_class_is_importable_and_named_for_its_orchestrator():
    from importlib import import_module

    for facts in collectors.BUILT_IN:
        module, name = facts.collector.split(":")
        assert getattr(import_module(module), name).orchestrator == facts.name


def test_registering_other_facts_under_a_known_name_is_refused():
    kubernetes = orchestrators.facts_of("kubernetes")
    orchestrators.register(kubernetes)  # the same facts again: harmless
    with pytest.raises(ValueError, match="already registered"):
        orchestrators.register(dataclasses.replace(kubernetes, label="K8s"))


def test_an_unknown_orchestrator_is_labelled_by_its_name():
    assert orchestrators.label_of("kubernetes") == "Kubernetes"
    assert orchestrators.label_of("borg") == "borg"
