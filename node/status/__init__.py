"""The node's Bitstring Status Lists: index allocation, bit changes, signed publication."""
