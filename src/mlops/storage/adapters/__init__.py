"""Storage backends. Optional ones import their client library lazily."""
