"""The kubernetes collector."""
