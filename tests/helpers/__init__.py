"""Helpers shared by the test suite: catalog invariants, source trees, child processes."""
