"""`POST /verify`: any certificate of the federation, checked against this node's trust list."""
