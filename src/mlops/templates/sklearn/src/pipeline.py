"""The ${project_id} pipeline: a wine classifier, from raw data to a quality gate.

load_data -> validate_data -> split -> preprocess -> train -> evaluate; then the
confusion matrix and test metrics charts (``@chart``), rendered after each completed run.

Every process is deterministic under ``reproducibility.random_seed`` and runs
offline: the wine dataset ships inside scikit-learn.

Each process imports its libraries itself, not at the top of the file: mlops
imports this module to find the processes, and a rerun whose processes are all
cached then imports neither scikit-learn nor NumPy (seconds saved per rerun).
"""

from __future__ import annotations

from typing import Any

from mlops import ChartContext, StepContext, chart, process
from mlops.adapters.sklearn.adapter import evaluate_classifier, save_model

Data = dict[str, Any]


class DataValidationError(ValueError):
    """The data does not match the expected schema, completeness or ranges."""


class QualityGateError(RuntimeError):
    """The model is below the configured quality bar."""


@process
def load_data(ctx: StepContext) -> Data:
    import numpy as np
    from sklearn.datasets import load_wine

    bunch = load_wine()
    ctx.log_metrics({"rows": len(bunch.target), "classes": len(bunch.target_names)})
    return {
        "X": np.asarray(bunch.data, dtype=float),
        "y": np.asarray(bunch.target),
        "feature_names": list(bunch.feature_names),
        "target_names": [str(name) for name in bunch.target_names],
    }


@process
def validate_data(
    ctx: StepContext, load_data: Data, expected_features: int, max_null_fraction: float
) -> Data:
    """Schema (feature count, one label per row), nulls, ranges and class coverage."""
    import numpy as np

    X, y = load_data["X"], load_data["y"]
    problems = []
    if X.ndim != 2 or X.shape[1] != expected_features:
        problems.append(f"expected {expected_features} features, found shape {X.shape}")
    if len(X) != len(y):
        problems.append(f"{len(X)} rows but {len(y)} labels")
    null_fraction = float(np.isnan(X).mean()) if X.size else 1.0
    if null_fraction > max_null_fraction:
        problems.append(f"{null_fraction:.1%} missing values (at most {max_null_fraction:.1%})")
    if not np.isfinite(X[~np.isnan(X)]).all():
        problems.append("infinite values")
    if (X[~np.isnan(X)] < 0).any():
        problems.append("negative measurements")
    missing_classes = set(range(len(load_data["target_names"]))) - set(np.unique(y).tolist())
    if missing_classes:
        problems.append(f"classes without rows: {sorted(missing_classes)}")
    ctx.log_metric("null_fraction", null_fraction)
    if problems:
        raise DataValidationError("; ".join(problems))
    return load_data


@process
def split(ctx: StepContext, validate_data: Data, test_size: float) -> Data:
    from sklearn.model_selection import train_test_split

    X_train, X_test, y_train, y_test = train_test_split(
        validate_data["X"],
        validate_data["y"],
        test_size=test_size,
        stratify=validate_data["y"],
        random_state=ctx.seed,
    )
    ctx.log_metrics({"train_rows": len(y_train), "test_rows": len(y_test)})
    return {"X_train": X_train, "X_test": X_test, "y_train": y_train, "y_test": y_test,
            "target_names": validate_data["target_names"]}  # fmt: skip


@process
def preprocess(split: Data) -> Data:
    """Standardise with statistics of the training rows only (no test leakage)."""
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(split["X_train"])
    return {**split, "X_train": scaler.transform(split["X_train"]),
            "X_test": scaler.transform(split["X_test"]), "scaler": scaler}  # fmt: skip


@process
def train(
    ctx: StepContext,
    preprocess: Data,
    model_type: str,
    C: float,
    max_iter: int,
    n_estimators: int,
) -> Any:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    if model_type == "logistic_regression":
        model = LogisticRegression(C=C, max_iter=max_iter, random_state=ctx.seed)
    elif model_type == "random_forest":
        model = RandomForestClassifier(n_estimators=n_estimators, random_state=ctx.seed)
    else:
        raise ValueError(
            f"unknown model_type {model_type!r}; use logistic_regression or random_forest"
        )
    model.fit(preprocess["X_train"], preprocess["y_train"])
    ctx.log_metric(
        "train_accuracy", float(model.score(preprocess["X_train"], preprocess["y_train"]))
    )
    save_model(ctx, model)
    return model


@process
def evaluate(ctx: StepContext, preprocess: Data, train: Any, min_accuracy: float) -> dict[str, Any]:
    """Accuracy, macro F1 and the confusion matrix on held-out rows; then the quality gate."""
    predictions = train.predict(preprocess["X_test"])
    report = evaluate_classifier(preprocess["y_test"], predictions)
    report["target_names"] = preprocess["target_names"]
    ctx.log_metrics({"accuracy": report["accuracy"], "f1_macro": report["f1_macro"]})
    if report["accuracy"] < min_accuracy:
        raise QualityGateError(
            f"accuracy {report['accuracy']:.3f} is below the quality gate {min_accuracy:.3f}"
        )
    return report


@chart(title="Confusion matrix")
def confusion_matrix(ctx: ChartContext) -> Any:
    """Held-out rows by true and predicted class (rendered after the run)."""
    import matplotlib.pyplot as plt
    import numpy as np

    evaluation = ctx.result("evaluate")
    names = evaluation["target_names"]
    matrix = np.asarray(evaluation["confusion_matrix"])
    figure, axes = plt.subplots(figsize=(4.5, 4))
    axes.imshow(matrix, cmap="Blues")
    ticks = range(len(names))
    axes.set(xticks=ticks, yticks=ticks, xticklabels=names, yticklabels=names)
    axes.set(xlabel="predicted", ylabel="true", title="Confusion matrix")
    for (row, column), count in np.ndenumerate(matrix):
        axes.text(column, row, str(count), ha="center", va="center")
    figure.tight_layout()
    return figure


@chart(title="Test metrics")
def metrics(ctx: ChartContext) -> Any:
    """Accuracy and macro F1 on held-out rows, as logged by evaluate."""
    import matplotlib.pyplot as plt

    values = [ctx.final("evaluate", "accuracy") or 0.0, ctx.final("evaluate", "f1_macro") or 0.0]
    figure, axes = plt.subplots(figsize=(4, 3))
    axes.bar(["accuracy", "F1 (macro)"], values)
    axes.set(ylim=(0, 1), title="Test metrics")
    figure.tight_layout()
    return figure
