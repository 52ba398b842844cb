"""How a coach and a member come together: relationships, invitations, coaching
interest, and what the member shares with the coach (session settings)."""
