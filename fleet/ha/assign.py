"""Which replica polls which cluster: pure, so every replica computes the same answer by itself.

A small fleet is polled by the leader alone (one process holds the whole picture, the others only
serve it). From SPLIT_FROM clusters on, the clusters are spread over the live replicas by rendezvous
hashing: each cluster goes to the replica with the highest hash of (cluster, replica), so a replica
joining or leaving moves only the clusters it gains or had — about 1/N of them — and no table of
assignments has to be agreed on.
"""
from __future__ import annotations

import hashlib

SPLIT_FROM = 20  # clusters: below this one poller (the leader) is simplest and light enough


def weight(cluster: str, replica: str) -> int:
    digest = hashlib.blake2b(f"{cluster}\0{replica}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owners(clusters: list[str], replicas: list[str], leader: str | None) -> dict[str, str | None]:
    """cluster -> the replica that should poll it (None: no replica is alive to take it)."""
    if len(clusters) < SPLIT_FROM or not replicas:
        return {cluster: leader for cluster in clusters}
    return {cluster: max(replicas, key=lambda replica: (weight(cluster, replica), replica)) for cluster in clusters}
