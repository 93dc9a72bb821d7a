"""What `streamlit run app.py` sets up for its whole process, checked in a fresh interpreter that
imports app.py as Streamlit's server does (as the module `app`)."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def switch_interval_after(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(sys.getswitchinterval())"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=True)
    return float(out.stdout.split()[-1])


def test_the_dashboards_process_hands_the_gil_to_waiting_threads_within_a_fraction_of_a_millisecond():
    # at Python's default (5 ms) a first page view beside one busy thread took up to 15 s (bench/busy_dashboard.py)
    assert switch_interval_after("import app") <= 0.0005
    assert switch_interval_after("import fleet.analysis, fleet.cli") == 0.005  # the CLI keeps Python's default


def test_the_shipped_streamlit_settings_do_not_watch_the_source_files():
    # the development file watcher re-registered every module for each new browser session: beside one
    # busy thread a first page view took 27-58 s with it (docs/dashboard.md); nothing deployed is edited in place
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["server"]["fileWatcherType"] == "none"
