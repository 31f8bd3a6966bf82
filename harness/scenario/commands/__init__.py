"""`harness run` and `harness validate`: scenarios through pytest, and checks without a deploy."""
