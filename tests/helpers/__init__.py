"""Helpers shared by the tests: import from them; the fixtures load as a pytest plugin."""
