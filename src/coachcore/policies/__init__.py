"""Who may do what: roles as permission data, ownership rules, field redaction."""
