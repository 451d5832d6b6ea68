from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops.config.schema import (
    AdapterConfig,
    ClusterConfig,
    ProjectConfig,
    dump_yaml,
    load_cluster_config,
    load_project_config,
    parse_scalar,
    parse_yaml,
    plain_data,
    validate_project_config,
)
from mlops.errors import ConfigError, ExitCode, MlopsError


def test_seed_sample_project_config_loads_as_is(
    write_project_config: Callable[..., Path], sample_project_config: dict[str, Any]
) -> None:
    config = load_project_config(write_project_config())
    assert config.reproducibility.random_seed == 123
    assert config.reproducibility.experiment_tracking.backend == "noop"
    assert config.environment.manager == "system"
    assert config.model.name == "test-model"
    assert config.reporting.charts == []


def test_seed_sample_model_config_builds_an_adapter_config(
    sample_model_config: dict[str, Any],
) -> None:
    adapter = AdapterConfig(**sample_model_config)
    assert (adapter.name, adapter.framework, adapter.language) == ("test-model", "custom", "python")
    assert adapter.parameters.as_dict() == {}


def test_defaults_fill_everything_but_the_model() -> None:
    config = ProjectConfig.model_validate({"model": {"name": "m"}})
    assert config.environment.manager == "system"
    assert config.reproducibility.random_seed == 42
    assert config.storage.kv is None
    assert config.executor.type is None


@pytest.mark.parametrize(
    "adjlist",
    ["a b c\nb d\n", {"a": ["b", "c"], "b": "d", "d": None}],
    ids=["adjacency-text", "mapping"],
)
def test_both_pipeline_forms_are_accepted(adjlist: object) -> None:
    config = ProjectConfig.model_validate(
        {
            "model": {
                "name": "m",
                "parameters": {"lr": 0.1, "pipeline": {"process_adjlist": adjlist}},
            }
        }
    )
    params = config.model.parameters.as_dict()
    assert params["lr"] == 0.1
    assert params["pipeline"]["process_adjlist"] == adjlist


@pytest.mark.parametrize("manager", ["venv", "conda", "pyenv", "system"], ids=str)
def test_each_environment_manager_can_be_chosen(manager: str) -> None:
    config = ProjectConfig.model_validate({"environment": {manager: None}, "model": {"name": "m"}})
    assert config.environment.manager == manager


BAD_CONFIGS = [
    ("top-typo", "model:\n  name: m\nreproducibilty:\n  random_seed: 1\n",
     "bad.yaml:3:1: reproducibilty: unknown key (did you mean 'reproducibility'?)"),
    ("nested-typo", "model:\n  name: m\n  framwork: custom\n",
     "bad.yaml:3:3: model.framwork: unknown key (did you mean 'framework'?)"),
    ("seed-type", "reproducibility:\n  random_seed: abc\nmodel:\n  name: m\n",
     "bad.yaml:2:3: reproducibility.random_seed: expected an integer, found 'abc'"),
    ("yaml-syntax", "model:\n  name: m\n   bad: [\n", "bad.yaml:3:7: invalid YAML: mapping values"),
    ("two-managers", "environment:\n  venv: {}\n  conda: {}\nmodel:\n  name: m\n",
     ("bad.yaml:1:1: environment: expected exactly one of venv, conda, pyenv, system, "
     "found venv, conda")),
    ("no-manager", "environment: {}\nmodel:\n  name: m\n", "found none"),
    ("no-model", "environment:\n  system:\n", "bad.yaml: model: required key is missing"),
    ("pipeline-type", "model:\n  name: m\n  parameters:\n    pipeline: abc\n",
     "bad.yaml:4:5: model.parameters.pipeline: expected a mapping, found 'abc'"),
    ("adjlist-type", "model:\n  name: m\n  parameters:\n    pipeline:\n      process_adjlist: 5\n",
     ("bad.yaml:5:7: model.parameters.pipeline.process_adjlist: "
     "expected a string or a mapping, found 5")),
    ("kv-backend", "model: {name: m}\nstorage:\n  kv:\n    backend: mongo\n",
     "storage.kv.backend: unknown storage backend 'mongo'; choose one of: file, firestore"),
    ("object-backend", "model: {name: m}\nstorage:\n  objects:\n    backend: s3\n",
     "storage.objects.backend: unknown storage backend 's3'; choose one of: fs, gcs"),
    ("kv-backend-line", "model: {name: m}\nstorage:\n  kv:\n    backend: mongo\n",
     "bad.yaml:4:5: storage.kv.backend: unknown storage backend 'mongo'"),
    ("redis-option-typo", "model: {name: m}\nstorage:\n  kv:\n    backend: redis\n    urll: x\n",
     "bad.yaml:5:5: storage.kv.urll: unknown key (did you mean 'url'?)"),
    ("redis-port", "model: {name: m}\nstorage:\n  kv: {backend: redis, port: 0}\n",
     "bad.yaml:3:24: storage.kv.port: expected a value >= 1, found 0"),
    ("gcs-bucket", "model: {name: m}\nstorage:\n  objects:\n    backend: gs\n",
     "bad.yaml:3:3: storage.objects.bucket: required key is missing"),
    ("local-objects-key", "model: {name: m}\nstorage:\n  objects:\n    path: x\n",
     ("bad.yaml:4:5: storage.objects.path: unknown key "
      "(valid keys here: backend, durable, required, root)")),
    ("cluster-option-typo",
     "model: {name: m}\ncluster:\n  provider: slurm\n  options:\n    coers: 4\n",
     "bad.yaml:5:5: cluster.options.coers: unknown key (did you mean 'cores'?)"),
    ("cluster-option-type",
     "model: {name: m}\ncluster:\n  provider: local\n  options:\n    n_workers: many\n",
     "bad.yaml:5:5: cluster.options.n_workers: expected an integer, found 'many'"),
    ("cluster-option-of-another-provider",
     "model: {name: m}\ncluster:\n  provider: ansible\n  options:\n    jobs: 3\n",
     "bad.yaml:5:5: cluster.options.jobs: unknown key"),
    ("cluster-adapt",
     "model: {name: m}\ncluster:\n  provider: slurm\n  options:\n    adapt: {minimum: 1}\n",
     "bad.yaml:5:5: cluster.options.adapt.maximum: required key is missing"),
    ("chart-type", "model: {name: m}\nreporting:\n  charts:\n    - name: x\n      type: weird\n",
     "bad.yaml:5:7: reporting.charts[0].type: expected 'static' or 'dynamic', found 'weird'"),
    ("not-a-mapping", "- a\n- b\n", "bad.yaml:1:1: expected a mapping of sections"),
    ("empty", "", "bad.yaml: the file is empty"),
    ("only-comments", "# nothing here\n", "bad.yaml: the file is empty"),
    ("workers", "model: {name: m}\nexecutor:\n  n_workers: 0\n",
     "bad.yaml:3:3: executor.n_workers: expected a value >= 1, found 0"),
    ("language", "model:\n  name: m\n  language: R\n",
     "bad.yaml:3:3: model.language: expected 'python', found 'R'"),
    ("empty-name", "model:\n  name: ''\n", "model.name"),
    ("several", "reproducibility:\n  random_seed: x\nmodel:\n  name: m\n  version: [1]\n",
     "(and 1 more problem)"),
    ("section-type", "model: {name: m}\nstorage:\n  kv: sqlite\n",
     "bad.yaml:3:3: storage.kv: expected a mapping, found 'sqlite'"),
]  # fmt: skip


def test_a_missing_file_says_how_to_create_the_project(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"no such file \(create the project with `mlops create NAME`\)"
    ):
        load_project_config(tmp_path / "absent.yaml")


def test_validate_accepts_plain_dicts_without_positions() -> None:
    with pytest.raises(
        ConfigError, match=r"^src: reproducibility.random_seed: expected an integer"
    ):
        validate_project_config(
            {"model": {"name": "m"}, "reproducibility": {"random_seed": "x"}}, "src"
        )


def test_a_dumped_config_loads_back_equal(tmp_path: Path) -> None:
    config = ProjectConfig.model_validate(
        {
            "reproducibility": {"random_seed": 7, "experiment_tracking": {"backend": "noop"}},
            "environment": {"venv": {"python": "3.12", "requirements": ["numpy"]}},
            "model": {"name": "m", "parameters": {"pipeline": {"process_adjlist": "a b\n"}}},
            "storage": {"kv": {"backend": "redis", "url": "redis://h:1/0"}},
            "executor": {"type": "threads", "n_workers": 2},
        }
    )
    path = tmp_path / "project_config.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json", exclude_none=True)))
    assert load_project_config(path) == config


# ------------------------------------------------------------------ exact messages


def _pipeline(rest: str, adjlist: str = "load fit") -> str:
    """A config whose pipeline declares ``adjlist`` (lines 5-6) followed by ``rest`` (line 7 on)."""
    return (
        "model:\n  name: m\n  parameters:\n    pipeline:\n"
        f"      process_adjlist: |\n        {adjlist}\n      {rest}"
    )


EXACT_MESSAGES = [
    ("typo", "model: {name: m}\nreproducibilty: {}\n",
     "bad.yaml:2:1: reproducibilty: unknown key (did you mean 'reproducibility'?)"),
    ("no-close-key", "model: {name: m}\nexecutor:\n  zzz: 1\n",
     ("bad.yaml:3:3: executor.zzz: unknown key "
     "(valid keys here: n_workers, threads_per_worker, type)")),
    ("long-value", f"model: {{name: m}}\nexecutor:\n  n_workers: '{'x' * 80}'\n",
     f"bad.yaml:3:3: executor.n_workers: expected an integer, found '{'x' * 56}..."),
    ("list-found", "model:\n  name: [a]\n",
     "bad.yaml:2:3: model.name: expected a string, found a list"),
    ("mapping-found", "model:\n  name: {a: 1}\n",
     "bad.yaml:2:3: model.name: expected a string, found a mapping"),
    ("plural", "reproducibility:\n  random_seed: x\nmodel:\n  name: [1]\n  language: R\n",
     ("bad.yaml:2:3: reproducibility.random_seed: expected an integer, found 'x' "
     "(and 2 more problems)")),
    ("union", "model:\n  name: m\n  parameters:\n    pipeline:\n      process_adjlist: [a]\n",
     ("bad.yaml:5:7: model.parameters.pipeline.process_adjlist: "
     "expected a string or a mapping, found a list")),
    ("bool", "model: {name: m}\ncluster:\n  required: maybe\n",
     "bad.yaml:3:3: cluster.required: expected true or false, found 'maybe'"),
    ("number", "model: {name: m}\ncluster:\n  connect_timeout: soon\n",
     "bad.yaml:3:3: cluster.connect_timeout: expected a number, found 'soon'"),
    ("list-type", "model: {name: m}\ncluster:\n  passthrough: PATH\n",
     "bad.yaml:3:3: cluster.passthrough: expected a list, found 'PATH'"),
    ("process-retries", _pipeline("processes:\n        fit:\n          retries: one\n"),
     ("bad.yaml:9:11: model.parameters.pipeline.processes.fit.retries: "
      "expected an integer, found 'one'")),
    ("process-timeout", _pipeline("processes:\n        fit:\n          timeout: -5\n"),
     ("bad.yaml:9:11: model.parameters.pipeline.processes.fit.timeout: "
      "expected a value > 0, found -5")),
    ("process-bool-count", _pipeline("processes:\n        fit:\n          retries: true\n"),
     ("bad.yaml:9:11: model.parameters.pipeline.processes.fit.retries: "
      "expected a number, not true or false")),
    ("process-option-typo", _pipeline("processes:\n        fit:\n          retires: 2\n"),
     ("bad.yaml:9:11: model.parameters.pipeline.processes.fit.retires: "
      "unknown key (did you mean 'retries'?)")),
    ("pipeline-typo", ("model:\n  name: m\n  parameters:\n    pipeline:\n"
     "      proces_adjlist: a b\n"),
     ("bad.yaml:5:7: model.parameters.pipeline.proces_adjlist: "
      "unknown key (did you mean 'process_adjlist'?)")),
    ("unknown-process", _pipeline("processes:\n        fitt: {retries: 1}\n"),
     ("bad.yaml:8:9: model.parameters.pipeline.processes.fitt: no such process in the "
      "pipeline (did you mean 'fit'?)")),
    ("cycle", _pipeline("", adjlist="load fit\n        fit load"),
     ("bad.yaml:5:7: model.parameters.pipeline.process_adjlist: the pipeline has a cycle: "
      "load -> fit -> load (a pipeline must be acyclic; remove one of these edges)")),
    ("spill-threshold", _pipeline("spill_threshold_bytes: lots\n"),
     ("bad.yaml:7:7: model.parameters.pipeline.spill_threshold_bytes: "
      "expected an integer, found 'lots'")),
    ("invalid-yaml", "model:\n  name: m\n   bad: indent\n",
     ("bad.yaml:3:7: invalid YAML: mapping values are not allowed here "
     "(check the indentation and the ':' after each key there)")),
]  # fmt: skip


# Cases of BAD_CONFIGS name what the line contains; EXACT_MESSAGES give the whole line.
MISTAKES = [(*c, False) for c in BAD_CONFIGS] + [(*c, True) for c in EXACT_MESSAGES]


@pytest.mark.parametrize(
    ("text", "message", "exact"), [c[1:] for c in MISTAKES], ids=[c[0] for c in MISTAKES]
)
def test_every_mistake_is_one_line_naming_file_position_and_key(
    tmp_path: Path, text: str, message: str, exact: bool
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(MlopsError) as info:  # a ConfigError, or a GraphError for the graph
        load_project_config(path, display="bad.yaml")
    line = str(info.value)
    assert line == message if exact else message in line
    assert "\n" not in line
    assert info.value.exit_code == ExitCode.USAGE
    assert path.read_text() == text


def test_cluster_config_file_absent_empty_or_set(tmp_path: Path) -> None:
    path = tmp_path / "cluster_config.yaml"
    assert load_cluster_config(path) is None
    path.write_text("# nothing yet\n")
    assert load_cluster_config(path) == ClusterConfig()
    path.write_text("provider: local\nrequired: true\nenv: {A: 1}\n")
    loaded = load_cluster_config(path, display="cluster.yaml")
    assert loaded is not None
    assert (loaded.provider, loaded.required, loaded.env) == ("local", True, {"A": 1})


@pytest.mark.parametrize(
    ("text", "message"),
    [("- local\n", "cluster.yaml:1:1: expected a mapping (provider:, options:, ...), found a list"),
     ("provider: k8s\n",
      "cluster.yaml:1:1: provider: expected 'local', 'ansible' or 'slurm', found 'k8s'"),
     ("providr: local\n", "cluster.yaml:1:1: providr: unknown key (did you mean 'provider'?)"),
     ("just text\n", ("cluster.yaml:1:1: expected a mapping (provider:, options:, ...), "
      "found a string"))],
    ids=["list", "provider", "typo", "string"],
)  # fmt: skip
def test_cluster_config_mistakes_are_one_exact_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "cluster_config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_cluster_config(path, display="cluster.yaml")
    assert info.value.one_line() == message
    with pytest.raises(ConfigError, match=f"^{re.escape(str(path))}:1:1: "):
        load_cluster_config(path)  # without a display name the path itself is shown


def test_an_unreadable_cluster_config_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cluster_config.yaml"
    path.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(ConfigError, match=r"^cluster.yaml:1: the file is not UTF-8 text"):
        load_cluster_config(path, display="cluster.yaml")


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", 1), ("1.5", 1.5), ("true", True), ("[a, 2]", ["a", 2]), ("{k: v}", {"k": "v"}),
     ("x", "x"), ("'1'", "1"), ("null", None)],
)  # fmt: skip
def test_command_line_values_are_read_as_yaml_scalars(text: str, value: object) -> None:
    assert parse_scalar(text) == value
    assert type(parse_scalar(text)) is type(value)


ROUND_TRIP = """\
# the project's settings
model:
  name: 'quoted'   # why it is quoted
  parameters:
    values:
      - 1
      - "two"
    long: LONG
"""


def test_rewriting_a_user_file_keeps_comments_quotes_layout_and_long_lines() -> None:
    text = ROUND_TRIP.replace("LONG", "word " * 60 + "end")
    data = parse_yaml(text, "f.yaml")
    assert dump_yaml(data) == text
    assert plain_data(data) == {
        "model": {
            "name": "quoted",
            "parameters": {"values": [1, "two"], "long": "word " * 60 + "end"},
        }
    }


@pytest.mark.parametrize(
    ("section", "message"),
    [({"reporting": {"charts": [{"name": "x", "typ": "static"}]}},
      "reporting.charts[0].typ: unknown key (did you mean 'type'?)"),
     ({"environment": {"venv": {"pythn": "3.11"}}},
      "environment.venv.pythn: unknown key (did you mean 'python'?)"),
     ({"cluster": {"provder": "local"}}, "cluster.provder: unknown key (did you mean 'provider'?)"),
     ({"reproducibility": {"experiment_tracking": {"backnd": "local"}}},
      "reproducibility.experiment_tracking.backnd: unknown key (did you mean 'backend'?)")],
    ids=["in-a-list", "in-an-optional", "cluster", "nested"],
)  # fmt: skip
def test_typos_at_any_depth_suggest_the_key_meant(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_project_config({"model": {"name": "m"}, **section}, "f.yaml")
    assert caught.value.one_line() == f"f.yaml: {message}"


@pytest.mark.parametrize(
    ("section", "message"),
    [({"model": {"name": "m", "parameters": {"pipeline": {"process_adjlist": {"a": 5}}}}},
      "model.parameters.pipeline.process_adjlist.a: expected a list or a string, found 5"),
     ({"model": {"name": "m"}, "cluster": {"env": {"PATH": [1]}}},
      ("cluster.env.PATH: expected a string or an integer or a number or true or false, "
      "found a list"))],
    ids=["deepest-alternative", "key-like-a-type-name"],
)  # fmt: skip
def test_a_union_mistake_is_reported_where_it_is(section: dict[str, Any], message: str) -> None:
    """Not at the union's key, and user keys that look like type names are kept."""
    with pytest.raises(ConfigError) as caught:
        validate_project_config(section, "f.yaml")
    assert caught.value.one_line() == f"f.yaml: {message}"
