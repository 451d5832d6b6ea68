"""mlops: project-based ML experiment runner.

Projects declare a DAG of Python processes; mlops runs them in an environment
it builds for the project, caches results by code and inputs, and tracks what
happened.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
