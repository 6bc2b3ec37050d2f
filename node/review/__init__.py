"""The technical review of applications: assignment, assessment, clarification, consolidation.

`access` is what other features may ask (who is assigned, which criteria a city may change
during a clarification); `service` holds the workflow and its rules.
"""
