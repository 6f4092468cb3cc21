"""Customers and the identities (phone, email, social ids) by which every channel finds them."""
