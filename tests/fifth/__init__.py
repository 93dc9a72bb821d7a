"""Lighthouse: a fake fifth orchestrator, defined entirely inside the tests.

Shaped like the built-in four (`collectors/<name>/`): `facts.py` declares what the core may know,
`wire.py` the upstream shapes, `fetch.py` the collector's I/O (GETs through the shared HTTP client),
`normalize.py` the pure translation into the common model. `upstream.py` is the tiny Lighthouse API
the tests start; `harbour.json` the fleet it serves. Nothing under fleet/ or views/ names it: it is
registered with `fleet.orchestrators.register(FACTS)` from a fixture in tests/test_fifth_orchestrator.py.
"""
