"""Targets: where a stack runs (embedded, localstack, aws), behind one interface."""
