"""The global node's store of every node's event log: reports received, checked and kept."""
