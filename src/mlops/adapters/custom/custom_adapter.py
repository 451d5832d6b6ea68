"""The ``custom`` adapter: any ``@process`` functions in the project's ``src/``."""

from __future__ import annotations

from typing import ClassVar

from mlops.adapters.base import ModelAdapter


class CustomAdapter(ModelAdapter):
    """Plain Python processes; everything comes from the base adapter's discovery."""

    framework: ClassVar[str] = "custom"


__all__ = ["CustomAdapter"]
