"""Technical assistance for a city's gaps (report §25, §37)."""
