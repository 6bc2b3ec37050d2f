"""ISO 3166-1 alpha-2 country codes: the list lives in `credentials` (the verifier checks a
certificate's country against its issuer's jurisdiction), and is re-exported here for the node."""

from sdgcities.credentials.countries import ISO_3166_ALPHA2, is_country_code

__all__ = ["ISO_3166_ALPHA2", "is_country_code"]
