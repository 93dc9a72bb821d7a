"""The go-bexpr subset the emulator understands for `?filter=`."""
from __future__ import annotations

import pytest

from sim.nomad.filters import FilterError, compile_filter

ALLOC = {"ClientStatus": "failed", "JobID": "api", "DeploymentStatus": {"Healthy": False},
         "Tags": ["a", "b"], "JobVersion": 3, "Name": "api.web[0]", "Empty": ""}


@pytest.mark.parametrize("expression,expected", [
    ('ClientStatus == "failed"', True),
    ('ClientStatus != "failed"', False),
    ('ClientStatus != "running" and ClientStatus != "complete"', True),
    ('ClientStatus == "running" or JobID == "api"', True),
    ('not (ClientStatus == "failed")', False),
    ("DeploymentStatus.Healthy == false", True),
    ("JobVersion == 3", True),
    ('Tags contains "b"', True),
    ('Tags not contains "b"', False),
    ('Name matches "^api\\\\."', True),
    ("Empty is empty", True),
    ("DeploymentStatus is not empty", True),
    ("Missing.Field is empty", True),
    ('Missing == "x"', False),
    ('Missing != "x"', False),
])
def test_expressions_select_like_go_bexpr(expression, expected):
    assert compile_filter(expression)(ALLOC) is expected


@pytest.mark.parametrize("expression", ['ClientStatus ==', '(ClientStatus == "a"', 'ClientStatus is full',
                                        '== "a"', 'ClientStatus = "a"'])
def test_malformed_expressions_are_refused(expression):
    with pytest.raises(FilterError):
        compile_filter(expression)
