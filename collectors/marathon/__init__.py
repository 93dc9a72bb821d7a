"""The marathon collector."""
