"""Paths every node serves the same way (DESIGN §6): DID document, JWKS, liveness."""
