"""Reports of a run: failure text, per-scenario timelines, the HTML report."""
