-- the history tables as the first version of fleet/store.py created them ({id}, {blob}: per database)
CREATE TABLE IF NOT EXISTS podium_snapshots (
    id {id}, taken_at TEXT NOT NULL, taken_at_s DOUBLE PRECISION NOT NULL,
    clusters INTEGER NOT NULL, body {blob} NOT NULL);
CREATE INDEX IF NOT EXISTS podium_snapshots_by_time ON podium_snapshots (taken_at_s);
CREATE TABLE IF NOT EXISTS podium_cluster_points (
    snapshot_id BIGINT NOT NULL, taken_at_s DOUBLE PRECISION NOT NULL, cluster TEXT NOT NULL,
    status TEXT NOT NULL, nodes_total INTEGER NOT NULL, nodes_ready INTEGER NOT NULL,
    instances_by_state TEXT NOT NULL, cpu_allocated DOUBLE PRECISION NOT NULL,
    cpu_allocatable DOUBLE PRECISION NOT NULL, mem_allocated BIGINT NOT NULL,
    mem_allocatable BIGINT NOT NULL, PRIMARY KEY (snapshot_id, cluster));
CREATE INDEX IF NOT EXISTS podium_points_by_cluster ON podium_cluster_points (cluster, taken_at_s)
