"""Several replicas, one poller: leases, fencing and shared rounds in PostgreSQL."""
