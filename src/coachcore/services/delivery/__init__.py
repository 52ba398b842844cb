"""Side effects and what the actor is told: outgoing messages written to the
outbox, the dispatcher that delivers them, conversations and notifications."""
