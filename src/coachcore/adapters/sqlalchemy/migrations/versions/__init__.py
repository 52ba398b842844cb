"""Version scripts (one module per revision)."""
