"""The node's append-only federation event log and its public feed (DESIGN §5, §6)."""
