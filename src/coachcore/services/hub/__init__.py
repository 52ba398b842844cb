"""The coaching hub: action plans and items, quick notes, session
scores, and documents."""
