"""Collection settings for the doctests under skae/ (tests/conftest.py has the rest)."""

import importlib.util

# map_partitions' doctest needs Dask, an optional dependency (skae[distributed]).
collect_ignore = [] if importlib.util.find_spec("dask") else ["skae/_dask.py"]
