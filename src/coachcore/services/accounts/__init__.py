"""People and their groups: users, member and coach profiles, organizations, dashboards."""
