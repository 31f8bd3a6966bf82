"""pytest plumbing: scenario files as tests, the session's deployed stack, fixtures."""
