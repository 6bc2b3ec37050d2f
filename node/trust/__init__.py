"""This node's copy of the federation's trust list (DESIGN §5), the one its `/verify` uses."""
