"""The city's pages: its dashboard, the self-assessment with evidence, the reviewers'
questions and the stage report, for `Role.CITY_APPLICANT` and its own city only."""
