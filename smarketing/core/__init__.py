"""The functional core: business time, the agreement, and every metric.

Pure functions of frames, terms and an `as_of` instant (pandas/numpy only): no I/O, no
database, no Streamlit. The import contract in pyproject.toml keeps it so.
"""
