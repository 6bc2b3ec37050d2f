"""SDG Cities certification federation.

`sdgcities.credentials` (keys, certificates, status lists, trust list, verifier) stands alone;
`sdgcities.federation`, `sdgcities.node` and `sdgcities.cli` build on it, in that order.
"""

__version__ = "0.1.0"
