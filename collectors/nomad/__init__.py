"""The nomad collector."""
