"""The Lambda runtime, for the stack and the package step alike: written here once.

No registry this project can reach carries a CPython 3.12 (Debian has 3.11 in
bookworm and 3.13 in trixie; PyPI and npm ship none that installs offline), and
the asset must be compiled by the runtime's own Python version. So the functions
run on Lambda's python3.13 (Amazon Linux 2023), whose interpreter Debian trixie
provides for the package step and the cold-start benchmark.
"""

PYTHON = "3.13"
DEBIAN_SUITE = "trixie"  # where that interpreter comes from (scripts/runtime-python.sh)

# Distributions the runtime already has (AWS's boto3 and what it needs): not shipped, so the
# asset does not shadow them (see docs/deploy.md for why boto3 is not bundled).
RUNTIME_PROVIDES = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six")

# Wheels for the Lambda platform of each architecture: AL2023 has glibc 2.34.
PLATFORMS = {"x86_64": "x86_64-manylinux_2_28", "arm64": "aarch64-manylinux_2_28"}
