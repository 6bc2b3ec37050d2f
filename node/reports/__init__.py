"""Stage reports (§25): generated from the review, kept as data, rendered as HTML and PDF."""
