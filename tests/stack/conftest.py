"""The apps under apps/ are users' projects: their own tests run against a deployed stack (see
tests/targets/test_byo_app.py), not as part of this suite."""

collect_ignore_glob = ["apps/*/tests/*"]
