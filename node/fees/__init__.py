"""Fees that do not exclude cities in lower-income countries (report §29, issue 16)."""
