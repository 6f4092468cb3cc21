"""Channel adapters, free of Flask: verify, parse inbound, send outbound, parse status (issue 3)."""
