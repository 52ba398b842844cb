"""The coaching hub (seed 003): action plans and items, quick notes, session
scores, and documents."""
