"""Infrastructure shared by every feature: app factory, extensions, database, errors, outbox."""
