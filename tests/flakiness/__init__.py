"""Flaky-test history, classification and quarantine, with the pytest plugin that feeds them."""
