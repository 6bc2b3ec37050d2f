"""Notices by mail to the people a change concerns (clarifications, review assignments,
meetings with their invitation, decisions, certificates, expiries, silent or alarming nodes),
each in the person's language and only the kinds they want."""
