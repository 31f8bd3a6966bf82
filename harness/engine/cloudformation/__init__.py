"""CloudFormation: the read API for stacks the harness deployed."""
