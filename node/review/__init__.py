"""The technical review (§25, §26), one module per workflow:

    submitted ──assign──▶ under_review ──consolidate (lead)──▶ recommended | not_recommended
                            │     ▲
              ask (reviewer)│     │respond (city)
                            ▼     │
                    clarification_requested

- `conflicts`: reviewers' conflicts of interest with cities, which bar them from a review;
- `assignment`: who reviews an application (the lead among them), and replacing a reviewer;
- `assessment`: each reviewer's verdicts on the criteria, frozen when they submit;
- `clarification`: a reviewer's questions to the city, and its answers;
- `consolidation`: the lead's verdicts and recommendation, which end the review;
- `access`: what other features may ask (who is assigned, which criteria a city may change
  during a clarification) and the review's records as they read them.
"""
