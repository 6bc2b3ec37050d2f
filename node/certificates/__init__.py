"""Certificates (DESIGN §4): issued, suspended, reinstated and revoked by committee decisions,
with their status-list bits and federation events; proposals to the committee; expiry."""
