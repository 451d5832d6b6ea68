"""The ``sklearn`` framework: scikit-learn pipelines with model and evaluation helpers."""
