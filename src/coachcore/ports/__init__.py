"""Ports: the Protocols the core needs from the outside world, with their contracts."""
