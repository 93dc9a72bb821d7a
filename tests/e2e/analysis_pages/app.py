"""A tiny app with only the Resilience and History pages, for the browser test (not the real entry point).

PODIUM_TEST_SNAPSHOT: a v1 snapshot file for Resilience; PODIUM_TEST_HISTORY: a SQLite history file.
"""
import os
from datetime import datetime, timezone
from pathlib import Path

import streamlit as st

from fleet.model import decode_snapshot
from fleet.store import open_sqlite
from views import history, resilience


def resilience_page() -> None:
    resilience.render_snapshot(decode_snapshot(Path(os.environ["PODIUM_TEST_SNAPSHOT"]).read_bytes()))


def history_page() -> None:
    history.render(open_sqlite(os.environ["PODIUM_TEST_HISTORY"], clock=lambda: datetime(2026, 1, 2, tzinfo=timezone.utc)))


st.set_page_config(page_title="Podium", layout="wide")
st.navigation([st.Page(resilience_page, title="Resilience", url_path="resilience", default=True),
               st.Page(history_page, title="History", url_path="history")]).run()
