"""A Django app embedding coachcore: REST views, the user mapping, the jobs command."""
