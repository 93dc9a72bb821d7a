"""The HTTP API beside the pages: read-only routes and Prometheus metrics over the latest Snapshot.

Like views/, it reads the fleet (fleet.model, the runtime) and never calls a cluster. See docs/api.md
and the contract in http-api.md.
"""
