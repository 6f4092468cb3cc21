"""Tickets, their messages and attachments, the audit trail, and the inbox queries."""
