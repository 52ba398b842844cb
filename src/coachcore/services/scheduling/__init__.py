"""Scheduling: availability, booking rules, slots, bookings, sessions, the waitlist
and session reminders."""
