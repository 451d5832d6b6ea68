"""Project environments: venv, conda, a pyenv-managed Python or the system Python.

One manager per kind (:mod:`mlops.environment.base`), built once per spec
under the workspace's ``.mlops/envs`` (content-addressed by the spec's hash),
and every tool reached through :class:`mlops.environment.utils.CommandRunner`.
"""
