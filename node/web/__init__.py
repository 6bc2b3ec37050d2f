"""The node's web pages for people (DESIGN §7): server-rendered, six languages, no outside
requests. Pages call the same services as the API; no business rule lives here."""
