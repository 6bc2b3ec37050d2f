"""The public registry (DESIGN §6): certified cities, their certificates, and each certificate as
issued. Anonymous, read-only, and limited to what is public."""
