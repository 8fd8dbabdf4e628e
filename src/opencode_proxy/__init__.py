"""opencode-proxy core: plain Python that runs the same on CPython and in Pyodide.

Nothing in this package imports `js`, `pyodide` or `workers`; the platform adapter
(`src/workers_adapter.py`) turns runtime objects into the types defined here.
"""
