"""The web UI: a FastAPI app over a workspace (``mlops serve``) and its packaged page.

A front end like the command line: it reads projects and runs through
:class:`mlops.session.platform.MLPlatform`, so it sits above the platform in the layers
(nothing below imports it).
"""
