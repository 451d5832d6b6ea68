"""What a run knows about where it runs, and what it hands to the workers that run it."""
