"""Settings resolve argument > environment > default, each default written once beside its field."""

import ast
from dataclasses import fields
from pathlib import Path

import pytest

from rollwise.config import AwsSettings, described, environment, resolve, variable
from rollwise.errors import ConfigError
from rollwise.handlers.common import HandlerSettings
from rollwise.runs.settings import MergeSettings
from rollwise.summaries.settings import IngestSettings, SummariesSettings


def test_argument_then_environment_then_default():
    env = {"ROLLWISE_CONCURRENCY": "4", "ROLLWISE_MATCH_THRESHOLD": "0.9"}
    s = resolve(MergeSettings, {"concurrency": 8, "archive_mode": None}, env)
    assert (s.concurrency, s.match_threshold, s.archive_mode, s.window_seconds) == (8, 0.9, "move", 300)
    assert resolve(MergeSettings, env={"ROLLWISE_CONCURRENCY": "  "}).concurrency == 32  # blank is unset


def test_a_variable_can_have_fallbacks():
    assert resolve(AwsSettings, env={"AWS_DEFAULT_REGION": "eu-west-1"}).region == "eu-west-1"
    assert resolve(AwsSettings, env={"AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "us-west-2"}).region == "us-west-2"
    assert resolve(AwsSettings, env={}).region == "us-east-1"


@pytest.mark.parametrize(
    "env,message",
    [
        ({"ROLLWISE_CONCURRENCY": "many"}, "ROLLWISE_CONCURRENCY must be a whole number, got 'many'"),
        ({"ROLLWISE_CONCURRENCY": "0"}, "ROLLWISE_CONCURRENCY must be at least 1, got 0"),
        ({"ROLLWISE_MATCH_THRESHOLD": "nan"}, "ROLLWISE_MATCH_THRESHOLD must be a finite number"),
        ({"ROLLWISE_ARCHIVE_MODE": "zip"}, "ROLLWISE_ARCHIVE_MODE must be one of move, bundle, got 'zip'"),
        ({"ROLLWISE_WINDOW_SECONDS": "420"}, "must be whole minutes that divide a day evenly, got 420"),
        ({"ROLLWISE_WINDOW_SECONDS": "30"}, "ROLLWISE_WINDOW_SECONDS must be at least 60, got 30"),
    ],
)
def test_bad_settings_name_their_source(env, message):
    with pytest.raises(ConfigError, match=message):
        resolve(MergeSettings, env=env)
    with pytest.raises(ConfigError, match="--concurrency must be at least 1"):
        resolve(MergeSettings, {"concurrency": 0}, {})


def test_the_deploy_takes_variable_names_from_the_fields():
    assert environment(MergeSettings, bucket="b", archive_mode="bundle") == {"SAM_MATCHING_OUT_RUNS_BUCKET": "b", "ROLLWISE_ARCHIVE_MODE": "bundle"}
    assert variable(SummariesSettings, "table") == "DYNAMODB_TABLE_NAME"
    with pytest.raises(TypeError, match="has no setting shards"):
        environment(MergeSettings, shards=3)


def test_every_setting_has_a_variable_and_help_and_the_readme_lists_it():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for cls in (MergeSettings, SummariesSettings, IngestSettings, HandlerSettings, AwsSettings):
        assert len(described(cls)) == len(fields(cls))
        for name, _, _, help_text in described(cls):
            assert help_text and f"`{name}`" in readme, name


def test_only_config_reads_the_environment():
    root = Path(__file__).resolve().parent.parent / "src" / "rollwise"
    readers = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") and getattr(node.value, "id", "") == "os":
                readers.append(path.relative_to(root).as_posix())
    assert sorted(set(readers)) == ["config.py"]
