"""Survey distribution: service events trigger invitations under explainable rules."""
