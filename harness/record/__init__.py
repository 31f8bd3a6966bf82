"""Record a session through a proxy and write it as a scenario."""
