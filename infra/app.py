"""The CDK app: `make synth` (or `npx cdk synth` with cdk.json) writes the template to cdk.out/."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import aws_cdk as cdk  # noqa: E402

from rollwise_infra.config import StackConfig  # noqa: E402
from rollwise_infra.stack import RollwiseStack  # noqa: E402


def build(app: cdk.App, config: StackConfig) -> RollwiseStack:
    return RollwiseStack(app, config.stack_name, config, description="rollwise: period summaries and merge-and-archive jobs")


def main() -> None:
    app = cdk.App()
    keys = StackConfig.__dataclass_fields__
    config = StackConfig.load(overrides={k: app.node.try_get_context(k) for k in keys})
    if not config.asset_path.exists():
        sys.exit(f"no Lambda asset at {config.asset_path}: run `make package` first (or set asset_dir)")
    build(app, config)
    app.synth()


if __name__ == "__main__":
    main()
