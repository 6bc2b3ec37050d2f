"""The global node's trust registry: member nodes, their keys, join requests, the trust list."""
