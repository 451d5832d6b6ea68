"""The ``sklearn`` adapter: scikit-learn processes, plus helpers they share.

Processes are found like the custom adapter's. On top, this adapter checks
that scikit-learn is importable before anything runs (one line naming the
extra to install), and offers the helpers the sklearn template uses:
:func:`evaluate_classifier` (accuracy, macro F1, confusion matrix) and
:func:`save_model` / :func:`load_model` through the run's checkpoint store.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from typing import Any, ClassVar

from mlops.adapters.base import AdapterError, ModelAdapter
from mlops.engine.step_system import StepContext


class SklearnAdapter(ModelAdapter):
    framework: ClassVar[str] = "sklearn"

    def check_requirements(self) -> None:
        missing = [m for m in ("sklearn", "numpy") if importlib.util.find_spec(m) is None]
        if missing:
            raise AdapterError(
                f"the sklearn adapter needs {', '.join(missing)}, which is not installed "
                "in this environment",
                hint="add scikit-learn to the project's requirements "
                "(or pip install 'mlops[sklearn]')",
            )


def evaluate_classifier(
    y_true: Sequence[Any], y_pred: Sequence[Any], labels: Sequence[Any] | None = None
) -> dict[str, Any]:
    """Accuracy, macro F1 and the confusion matrix (as nested lists), as plain data."""
    metrics = importlib.import_module("sklearn.metrics")
    order = list(labels) if labels is not None else sorted({*y_true, *y_pred})
    return {
        "accuracy": float(metrics.accuracy_score(y_true, y_pred)),
        "f1_macro": float(metrics.f1_score(y_true, y_pred, average="macro", labels=order)),
        "confusion_matrix": metrics.confusion_matrix(y_true, y_pred, labels=order).tolist(),
        "labels": [label.item() if hasattr(label, "item") else label for label in order],
    }


def save_model(ctx: StepContext, model: Any, name: str = "model") -> None:
    """Keep a fitted model with the run's checkpoints (reloaded by :func:`load_model`)."""
    ctx.save_checkpoint(name, model)


def load_model(ctx: StepContext, name: str = "model") -> Any:
    return ctx.load_checkpoint(name)


__all__ = ["SklearnAdapter", "evaluate_classifier", "load_model", "save_model"]
