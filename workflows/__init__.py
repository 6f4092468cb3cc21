"""The case engine, free of Flask: definitions, transitions, routing, assignment, SLA (issue 4)."""
