"""Who may act: personal links, the coordinator's sign-in, sessions and form tokens."""
