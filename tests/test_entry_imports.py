"""The entry point imports pandas before any page runs (app.py's docstring says why: plotly's
``to_plotly_json`` peeks at a half-imported pandas while another session imports it)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A fresh interpreter (pandas not imported yet) runs app.py in AppTest with st.navigation replaced
# by a probe that records whether pandas is fully imported when the pages would start.
PROBE = r'''
import sys
import streamlit as st
from streamlit.testing.v1 import AppTest
assert "pandas" not in sys.modules, "the probe needs an interpreter without pandas"
seen = []
class _Page:
    def run(self):
        pd = sys.modules.get("pandas")
        seen.append(pd is not None and not getattr(pd.__spec__, "_initializing", False) and hasattr(pd, "Series"))
st.navigation = lambda pages, **kw: _Page()
at = AppTest.from_file("app.py", default_timeout=60).run()
assert not at.exception, at.exception
print("PANDAS_READY" if seen == [True] else f"NOT_READY {seen}")
'''


def test_pandas_is_imported_before_any_page_runs():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "PANDAS_READY" in out.stdout, out.stdout + out.stderr[-2000:]
