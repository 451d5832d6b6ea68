"""From a run request to a run: the project loaded once, its environment and stores,
where it runs (here or on a cluster), and what it returns."""
