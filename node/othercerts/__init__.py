"""A city's other certifications and ESG indicators, for investors (report §30d, §30e)."""
