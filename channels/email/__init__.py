"""The email family: parsing, loop and noise detection, composing replies; SMTP and IMAP adapters."""
