#!/usr/bin/env bash
# The project's test command: starts the real servers (installing what is missing, cached),
# then runs formatting, lint, unit and integration tests, then the infrastructure checks
# (infra/test.sh: CDK jest, synth, cfn-lint, checkov, the Terraform module's tests). Integration tests fail, rather
# than skip, when a server is missing (BP_REQUIRE_SERVICES=1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/dev-services.sh up
export BP_REQUIRE_SERVICES=1
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
# The Lambda function binary, which tests/lambda_local.rs runs under cargo-lambda's emulator.
cargo build -p poller
cargo test --workspace
infra/test.sh
