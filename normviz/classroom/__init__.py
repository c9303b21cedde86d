"""Classroom material generated from the registry: exercises (``exercises``) and ready lessons
(``lessons``). No streamlit here; the pages in app_pages/ show them."""
