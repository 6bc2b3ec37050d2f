"""Learning communities: cities sharing gaps of their stage reports learn together (§30c)."""
