"""The sklearn adapter's evaluation helper, with scikit-learn itself (seconds to import)."""

from __future__ import annotations

from fixtures.extras import require
from mlops.adapters.sklearn.adapter import evaluate_classifier


def test_evaluate_classifier_reports_plain_data() -> None:
    require("sklearn")
    report = evaluate_classifier([0, 1, 1, 2], [0, 1, 2, 2])
    assert report["accuracy"] == 0.75
    assert report["confusion_matrix"] == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    assert report["labels"] == [0, 1, 2]
    assert 0 < report["f1_macro"] < 1
