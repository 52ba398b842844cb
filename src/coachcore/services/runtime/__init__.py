"""What runs a use case: the runtime, its transaction, and fetch-or-404 of records."""
