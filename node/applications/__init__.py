"""Applications: a city's self-assessment for one stage, criterion by criterion, with evidence."""
