"""Socket.IO: who may connect and which rooms they join (rooms and catch-up grow in issue 6)."""
