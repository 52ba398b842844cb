"""The in-memory reference store and recording calendar/messaging/notifier adapters."""
