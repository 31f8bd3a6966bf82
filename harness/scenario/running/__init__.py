"""Running a scenario against a target: steps, the runner, what the pipeline did."""
