"""Helpers shared by the test suites: real infrastructure fixtures and polling."""
