"""EventBridge: rules and schedules that invoke functions."""
