"""Renewing a certificate nearing its end (§18, §42c)."""
