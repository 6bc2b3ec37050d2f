"""The node's own identity: its did:web, its signing keys (encrypted at rest) and their history."""
