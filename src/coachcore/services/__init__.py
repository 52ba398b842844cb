"""Use cases (one method per command or query, each taking an actor), the outbox
dispatcher, reminders, and the composition root behind ``coachcore.open``."""
