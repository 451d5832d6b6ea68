"""Charts of a run: registered with ``@chart``, rendered after the run, stored for the web UI."""
