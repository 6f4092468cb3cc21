"""Canned responses: reusable replies with {{variables}}, global or per department (issue 7, item 2)."""
