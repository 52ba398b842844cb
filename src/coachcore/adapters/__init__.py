"""Adapters: implementations of the ports (stores, calendar, messaging, notifier)."""
