"""Getting updates in and messages out: the durable inbox (and, later, the outbox and scheduler tick)."""
