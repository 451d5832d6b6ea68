"""The engine: workspace layout, graphs, steps, hashing, execution."""
