"""The organisation: service centres, departments and groups as a tree, and the agents in them."""
