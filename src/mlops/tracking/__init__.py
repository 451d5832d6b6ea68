"""What a run leaves behind: its records and history, artifacts, and the experiment
trackers (local, MLflow) that receive its parameters and metrics."""
