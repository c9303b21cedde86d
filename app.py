"""normviz entry point: page config and navigation, nothing else.

Run with `make run` (or `streamlit run app.py`). Each page is one file in app_pages/;
add a page with one `st.Page(...)` line below.

The folder is app_pages/, not pages/: Streamlit treats a pages/ folder as a legacy
multipage app until some session has run st.navigation, so on a freshly started server
the first deep link (/cube) ran the page file alone, without this entry point.

pandas is imported here, before any page, because plotly peeks at ``sys.modules["pandas"]``
without importing it (``get_module("pandas", should_load=False)`` in ``to_plotly_json``): while
one session's thread is importing pandas (the training lab imports it), another session drawing a
chart found a half-initialized module and failed with "partially initialized module 'pandas' has
no attribute 'Series'" (4 of 30 sessions in bench/bench_classroom.py). An ``import`` statement
waits for another thread's import of the same module to finish; plotly's peek does not.
"""
import pandas  # noqa: F401  # before any page runs: see below
import streamlit as st

from app_pages._classroom import copy_link, page_alone, present_mode
from app_pages._live_chart import PRELOAD_CSS, preload_plotly

# An emoji, not a :material/...: icon: Streamlit 1.67 fetches a Material favicon from
# fonts.gstatic.com (the nav icons come from its bundled font); an emoji becomes a data: URL.
# Presenting or embedded, the page is alone and makes no sidebar (app_pages/_classroom.py); should a page
# write to st.sidebar anyway, it starts collapsed, so it never shows before the CSS that hides it.
st.set_page_config(page_title="normviz", page_icon="🧊", layout="wide",
                   initial_sidebar_state="collapsed" if page_alone() else "auto")

pages = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/image_lab.py", title="Image lab", icon=":material/photo_library:", url_path="image_lab"),
    st.Page("app_pages/cube.py", title="Cube", icon=":material/view_in_ar:", url_path="cube"),
    st.Page("app_pages/training_lab.py", title="Training lab", icon=":material/model_training:", url_path="training"),
    st.Page("app_pages/transformer_lab.py", title="Transformer lab", icon=":material/hub:", url_path="transformer"),
    st.Page("app_pages/experiments.py", title="Experiments", icon=":material/science:", url_path="experiments"),
    st.Page("app_pages/guide.py", title="Guide", icon=":material/menu_book:", url_path="guide"),
    st.Page("app_pages/glossary.py", title="Glossary", icon=":material/dictionary:", url_path="glossary"),
    st.Page("app_pages/exercises.py", title="Exercises", icon=":material/quiz:", url_path="exercises"),
    st.Page("app_pages/lessons.py", title="Lessons", icon=":material/school:", url_path="lessons"),
]

# Both draw nothing, but until Streamlit's lazy HTML renderer applies their CSS they took 96 px above
# the title, which then jumped up on every first load; in a box 1 px high the title never moves.
with st.container(key="normviz-head", height=1, border=False, gap=None):
    present_mode(extra_css=PRELOAD_CSS)
    preload_plotly()  # plotly.js loads while the page's script runs, not after its charts mount
st.navigation(pages, position="hidden" if page_alone() else "sidebar").run()
if not page_alone():
    copy_link()
