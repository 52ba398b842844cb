"""The audit log and privacy: retention, the member's data export, erasure."""
