"""Alerts: conditions over each round's Snapshot, a state machine that raises and resolves them, and
the destinations they are sent to (docs/alerts.md). Import from the modules: `catalog` (names),
`settings` (the parsed `alerts:` config), `conditions` (pure), `state` (pure), `payloads` (pure),
`dispatch` (per-destination senders) and `engine` (what the runtime subscribes to each round).
"""
