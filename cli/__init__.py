"""The `sdgcities` command line: node operators, the global secretariat, and investors."""
