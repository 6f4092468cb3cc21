"""Who is asking: browser sessions, API tokens, passwords, and the department scope of each user."""
