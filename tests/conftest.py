"""The tests' shared helpers live in tests/helpers/; their fixtures load as a plugin."""

pytest_plugins = ["helpers.fixtures", "helpers.catalogue"]
