"""The relay: sends this node's event log to the global node (the outbox reader)."""
