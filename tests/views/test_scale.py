"""Pages at the Kubernetes scale target (5,000 nodes, 150,000 instances): nothing breaks, and no
table or chart ships more than the capped number of rows to the browser."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from bench.synthetic import synthetic_snapshot
from bench.ui_render import PAGES, keep_history, page_script
from fleet.model import encode_snapshot
from views.tables import MAX_ROWS_SHOWN

pytestmark = pytest.mark.scale


@pytest.fixture(scope="module")
def large_fleet_file(tmp_path_factory):
    snapshot = synthetic_snapshot(5000, 30, clusters=2)
    assert sum(c.summary.instances_total for c in snapshot.clusters) == 150_000
    folder = tmp_path_factory.mktemp("scale")
    (folder / "large.json").write_bytes(encode_snapshot(snapshot, indent=0))
    keep_history(folder / "large.sqlite3", snapshot, moments=2)
    return str(folder / "large.json"), str(folder / "large.sqlite3")


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_a_large_fleet_with_capped_tables(page, large_fleet_file):
    app = AppTest.from_function(page_script, args=(page, *large_fleet_file), default_timeout=300)
    app.run()
    assert not app.exception
    for frame in app.dataframe:
        assert len(frame.value) <= MAX_ROWS_SHOWN
    if page in ("workloads", "instances", "services"):  # 15,000 workloads and services, 150,000 instances
        assert any("Showing the first 5,000" in c.value for c in app.caption)
