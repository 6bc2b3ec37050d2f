"""How the rest of the node tells the relay to try now (kept apart: `NodeState` holds one)."""

from __future__ import annotations

import threading


class RelayWake:
    """Tells the relay to try now, with its back-off forgotten: a trust list listing this node
    was accepted, so what waited because the node was not a member yet may go now."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def wake(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds; True (and cleared) if woken meanwhile."""
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken
