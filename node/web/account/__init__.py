"""People's accounts on the web: sign-in (password, second factor), invitations and password
resets by mail, a city's request for an account, and the person's own account page."""
