"""Pure domain model: frozen attrs entities, enums and value checks. No I/O, no clock."""
