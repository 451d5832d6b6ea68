"""The web UI: a FastAPI app over a workspace (``mlops serve``) and its packaged page."""
