"""docs/cdk-factory.md, run as written with the real cdk-factory 1.15.0, against the stack of infra/.

cdk-factory pins aws-cdk-lib 2.202.0, so it lives in its own locked environment
(tools/cdk-factory/, made by `make setup`); the doc's two blocks are written to a
folder and its app.py is run there, as a user would.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import aws_cdk as cdk
import pytest

from rollwise.handlers import RUNS_HANDLER, SUMMARIES_HANDLER
from rollwise_infra.config import StackConfig
from rollwise_infra.stack import RollwiseStack
from support.assets import lambda_asset

pytestmark = pytest.mark.slow  # a deploy test: the real cdk-factory synthesizes the stack

ROOT = Path(__file__).resolve().parents[2]
FACTORY_PYTHON = ROOT / "tools" / "cdk-factory" / ".venv" / "bin" / "python"
ACCOUNT, REGION = "123456789012", "us-east-1"
LAMBDA_DEFAULT_EPHEMERAL = {"Size": 512}


@pytest.fixture(scope="module")
def factory_template(tmp_path_factory):
    assert FACTORY_PYTHON.exists(), "cdk-factory's environment is missing: run `make setup`"
    asset = lambda_asset("x86_64")  # the doc's config names the x86_64 asset
    work = tmp_path_factory.mktemp("cdk-factory")
    blocks = dict((lang, body) for lang, body in re.findall(r"```(json|python)\n(.*?)```", (ROOT / "docs" / "cdk-factory.md").read_text(), re.S))
    (work / "config.json").write_text(blocks["json"])
    (work / "app.py").write_text(blocks["python"])
    (work / "build" / "lambda").mkdir(parents=True)
    (work / "build" / "lambda" / "x86_64").symlink_to(asset)
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "1", "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1"}
    done = subprocess.run([str(FACTORY_PYTHON), "app.py"], cwd=work, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return json.loads((work / "cdk.out" / "rollwise-prod-jobs.template.json").read_text())


@pytest.fixture(scope="module")
def our_template(tmp_path_factory):
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("cdk.out")))
    stack = RollwiseStack(
        app,
        "rollwise",
        StackConfig(
            table_name="rollwise-executions",
            bucket_name="sam-matching-out-runs",
            executions_per_day=1_000_000,  # one function, no fan-out: cdk-factory's shape
            api=False,  # the doc deploys the jobs only
            asset_dir=str(lambda_asset("x86_64")),
        ),
    )
    return app.synth().get_stack_by_name(stack.stack_name).template


def resources(template, kind):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def functions(template):
    return {v["Properties"]["Handler"]: (k, v["Properties"]) for k, v in resources(template, "AWS::Lambda::Function").items()}


def resolve(value):
    """Our template's ARNs, with the pseudo parameters of the doc's account and region."""
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(resolve(p) for p in parts)
    if isinstance(value, dict) and "Ref" in value:
        return {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}.get(value["Ref"], value)
    if isinstance(value, list):
        return [resolve(v) for v in value]
    return value


def as_list(value):
    return value if isinstance(value, list) else [value]


def statements(template, function_logical):
    role = function_logical["Role"]["Fn::GetAtt"][0]
    out = {}
    for policy in resources(template, "AWS::IAM::Policy").values():
        if any(r.get("Ref") == role for r in policy["Properties"]["Roles"]):
            for s in policy["Properties"]["PolicyDocument"]["Statement"]:
                out[s["Sid"]] = s
    return out


def schedules(template, function_logical_id):
    return sorted(
        r["Properties"]["ScheduleExpression"]
        for r in resources(template, "AWS::Events::Rule").values()
        if any(t["Arn"] == {"Fn::GetAtt": [function_logical_id, "Arn"]} for t in r["Properties"]["Targets"])
    )


@pytest.mark.parametrize("handler", [SUMMARIES_HANDLER, RUNS_HANDLER])
def test_the_same_functions_sizes_schedules_and_environment(factory_template, our_template, handler):
    theirs_id, theirs = functions(factory_template)[handler]
    ours_id, ours = functions(our_template)[handler]
    for name in ("Runtime", "MemorySize", "Timeout", "Architectures"):
        assert theirs[name] == ours[name], name
    assert theirs.get("EphemeralStorage", LAMBDA_DEFAULT_EPHEMERAL) == ours.get("EphemeralStorage", LAMBDA_DEFAULT_EPHEMERAL)
    assert schedules(factory_template, theirs_id) == schedules(our_template, ours_id) != []
    their_env, our_env = theirs["Environment"]["Variables"], ours["Environment"]["Variables"]
    assert set(our_env) <= set(their_env), set(our_env) - set(their_env)
    for name, value in our_env.items():
        if isinstance(value, str):  # a literal; ours refers to the results topic the stack creates, the doc names one
            assert their_env[name] == value, name
    assert theirs.get("TracingConfig", {}).get("Mode", "PassThrough") != "Active"


@pytest.mark.parametrize("handler", [SUMMARIES_HANDLER, RUNS_HANDLER])
def test_the_roles_are_narrowed_to_ours(factory_template, our_template, handler):
    theirs = statements(factory_template, functions(factory_template)[handler][1])
    ours = statements(our_template, functions(our_template)[handler][1])
    assert set(theirs) == set(ours)
    for sid, statement in ours.items():
        mine = theirs[sid]
        assert sorted(as_list(mine["Action"])) == sorted(as_list(statement["Action"])), sid
        assert mine.get("Condition") == statement.get("Condition"), sid
        if sid == "WriteItsOwnLogs":  # each its own log group
            assert mine["Resource"]["Fn::GetAtt"][1] == "Arn"
        elif sid != "PublishRunResults":  # the doc names an existing topic; ours is the stack's own
            assert sorted(as_list(mine["Resource"])) == sorted(as_list(resolve(statement["Resource"]))), sid
    flat = json.dumps(list(theirs.values()))
    for wide in ('"*"', "logs:CreateLogGroup", "cloudwatch:", "xray:", "arn:aws:logs:*"):
        assert wide not in flat, wide
