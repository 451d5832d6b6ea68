"""The ``custom`` framework: plain Python processes."""
