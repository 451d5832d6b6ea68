"""Adapters: how a project's configuration and model code plug into the engine."""
