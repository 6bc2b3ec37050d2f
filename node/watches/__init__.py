"""Watches: an investor follows a city, a country or a certificate, by email or by webhook."""
