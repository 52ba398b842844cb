"""Use cases (one method per command or query, each taking an actor), grouped by
bounded context: ``accounts``, ``scheduling``, ``coaching``, ``hub``,
``compliance`` and ``delivery``; ``runtime`` runs them. ``scopes`` is the API
one actor sees, ``bootstrap`` the composition root behind ``coachcore.open``."""
