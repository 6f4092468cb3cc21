"""Glue between tickets and workflows/: SLA clocks, escalation, routing and the case engine."""
