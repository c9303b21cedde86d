"""The classroom layer: exercises checked by the library, and ready lessons (no streamlit here)."""
