"""Working a case together: internal notes with @mentions, notifications, the merged case timeline."""
