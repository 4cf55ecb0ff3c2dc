"""The CDK app: `make synth` (or `npx cdk synth` with cdk.json) writes the template to cdk.out/."""

from __future__ import annotations

import os
import sys
from itertools import pairwise
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import aws_cdk as cdk  # noqa: E402

from rollwise_infra.config import StackConfig  # noqa: E402
from rollwise_infra.stack import RollwiseStack  # noqa: E402


def build(app: cdk.App, config: StackConfig) -> RollwiseStack:
    return RollwiseStack(app, config.stack_name, config, description="rollwise: period summaries and merge-and-archive jobs")


def _context_args(argv: list[str]) -> dict[str, str]:
    """`-c key=value` as the cdk CLI takes it, for running this file directly."""
    out = {}
    for flag, value in pairwise(argv):
        if flag in ("-c", "--context") and "=" in value:
            key, _, val = value.partition("=")
            out[key] = val
    return out


def main() -> None:
    # Run by the cdk CLI, the output folder and context come from it; run directly, from here.
    app = cdk.App(outdir=os.environ.get("CDK_OUTDIR") or str(HERE.parent / "cdk.out"), context=_context_args(sys.argv[1:]))
    keys = StackConfig.__dataclass_fields__
    config = StackConfig.load(overrides={k: app.node.try_get_context(k) for k in keys})
    for asset in config.asset_paths:
        if not asset.exists():
            sys.exit(f"no Lambda asset at {asset}: run `make package` first (or set asset_dir / api_asset_dir)")
    build(app, config)
    assembly = app.synth()
    print(f"synthesized {config.stack_name} into {assembly.directory}")


if __name__ == "__main__":
    main()
