"""The ``mlops`` command line: its commands, options, output and live progress."""
