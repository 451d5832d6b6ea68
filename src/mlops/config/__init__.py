"""The project config: its YAML read within bounds, the whole schema, the pipeline
graph it declares, and mistakes in it as one line that names the file and key."""
