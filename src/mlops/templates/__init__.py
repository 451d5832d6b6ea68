"""Project scaffolds: each sub-folder is a template ``mlops create --template NAME`` copies."""
