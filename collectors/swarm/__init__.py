"""The swarm collector."""
