"""normviz entry point: page config and navigation, nothing else.

Run with `make run` (or `streamlit run app.py`). Each page is one file in pages/;
add a page with one `st.Page(...)` line below.
"""
import streamlit as st

st.set_page_config(page_title="normviz", page_icon=":material/deployed_code:", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/image_lab.py", title="Image lab", icon=":material/photo_library:", url_path="image_lab"),
    st.Page("pages/cube.py", title="Cube", icon=":material/view_in_ar:", url_path="cube"),
    st.Page("pages/training_lab.py", title="Training lab", icon=":material/model_training:", url_path="training"),
    st.Page("pages/experiments.py", title="Experiments", icon=":material/science:", url_path="experiments"),
    st.Page("pages/guide.py", title="Guide", icon=":material/menu_book:", url_path="guide"),
]

st.navigation(pages).run()
