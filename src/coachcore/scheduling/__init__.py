"""Pure slot algorithms: weekly windows to dated slots, seats, buffers and DST."""
