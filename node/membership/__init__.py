"""A national node's side of the federation: joining, and keeping its trust-list copy fresh."""
