"""Workspace-level services: projects and reproducibility."""
