"""Verification and CI: the only floor that imports `pact`. It uses `states` and `example_provider`."""
