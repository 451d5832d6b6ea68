"""Running a pipeline on Dask distributed: providers, the controller, the job entry point."""
