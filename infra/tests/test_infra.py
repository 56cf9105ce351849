"""Checks of the Terraform module that need no AWS account and no terraform binary.

- Every .tf file parses (python-hcl2), and the module declares exactly the variables it uses.
- The module's variables and outputs match the CDK construct's props and attributes, with
  the same defaults (DEFAULTS in infra/cdk/lib/binlog-poller.ts), so the two stay in step.
- The resources carry the settings the design depends on (arm64, reserved concurrency 1,
  no async retries, point-in-time recovery, the poll input, the alarms on the metric names
  src/platform/telemetry.rs writes), and every checkov suppression states its reason.

Run by infra/test.sh: python -m unittest discover -s infra/tests
"""

import json
import re
import subprocess
import unittest
from pathlib import Path

import hcl2

INFRA = Path(__file__).resolve().parent.parent
REPO = INFRA.parent
MODULE = INFRA / "terraform"
CDK_LIB = INFRA / "cdk" / "lib" / "binlog-poller.ts"

# CDK props without a same-named Terraform variable, each with its counterpart and why.
CDK_TO_TF = {
    "vpc": None,  # CDK's Function wants the VPC object; Terraform's takes subnets alone.
    "vpcSubnets": "subnet_ids",  # a SubnetSelection there, ids here
    "securityGroups": "security_group_ids",  # ISecurityGroup objects there, ids here
    "manifestPath": None,  # CDK builds the function with cargo-lambda at deploy time...
}
TF_ONLY = {"lambda_zip_path"}  # ...Terraform takes the package cargo-lambda built.


def unquote(value):
    """python-hcl2 keeps HCL's quotes on strings and keys; strip them, recursively."""
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            try:
                return json.loads(value)
            except json.JSONDecodeError:  # an interpolated template, e.g. "${a}/${b}"
                return value[1:-1]
        return value
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if k != "__is_block__"}
    return value


def load(path: Path) -> dict:
    with path.open() as f:
        return unquote(hcl2.load(f))


def module_blocks(kind: str) -> dict:
    """All blocks of one kind (variable, output, resource) in the module, by name."""
    found = {}
    for tf in sorted(MODULE.glob("*.tf")):
        for block in load(tf).get(kind, []):
            found.update(block)
    return found


def resources(rtype: str) -> dict:
    """The module's resources of one type, by name."""
    found = {}
    for tf in sorted(MODULE.glob("*.tf")):
        for block in load(tf).get("resource", []):
            found.update(block.get(rtype, {}))
    return found


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def cdk_props() -> dict:
    """Props of BinlogPollerProps: name -> optional?"""
    text = CDK_LIB.read_text()
    body = re.search(r"export interface BinlogPollerProps \{(.*?)\n\}", text, re.S).group(1)
    return {m.group(1): bool(m.group(2)) for m in re.finditer(r"^\s+readonly (\w+)(\?)?:", body, re.M)}


def cdk_attributes() -> set:
    """The construct's public string attributes (the counterparts of Terraform outputs)."""
    return set(re.findall(r"^\s+public readonly (\w+): string;", CDK_LIB.read_text(), re.M))


def cdk_defaults() -> dict:
    """DEFAULTS as the construct evaluates it (TypeScript run by ts-node)."""
    out = subprocess.run(
        ["node", "-r", "ts-node/register/transpile-only", "-e",
         "console.log(JSON.stringify(require('./lib/binlog-poller').DEFAULTS))"],
        cwd=INFRA / "cdk", check=True, capture_output=True, text=True, timeout=120,
    )
    return json.loads(out.stdout)


def telemetry_metrics() -> set:
    text = (REPO / "src" / "platform" / "telemetry.rs").read_text()
    names = set(re.findall(r'pub const [A-Z_]+: &str = "([^"]+)";', text))
    return names - {"BinlogPoller", "Connector"}


class ParsesAndIsConsistent(unittest.TestCase):
    def test_every_file_parses(self):
        files = sorted(MODULE.rglob("*.tf"))
        self.assertGreaterEqual(len(files), 6)
        for tf in files:
            with self.subTest(file=str(tf.relative_to(INFRA))):
                self.assertIsInstance(load(tf), dict)

    def test_variables_used_and_declared(self):
        declared = set(module_blocks("variable"))
        used = set()
        for tf in MODULE.glob("*.tf"):
            used |= set(re.findall(r"\bvar\.([a-z0-9_]+)", tf.read_text()))
        self.assertEqual(used, declared, "a variable is used but not declared, or declared but unused")
        for name, block in module_blocks("variable").items():
            self.assertTrue(block.get("description"), f"variable {name} has no description")

    def test_example_sets_every_required_variable(self):
        example = load(MODULE / "examples" / "aurora-msk-iam" / "main.tf")
        call = example["module"][0]["inventory"]
        self.assertEqual(call["source"], "../..")
        required = {n for n, b in module_blocks("variable").items() if "default" not in b}
        self.assertLessEqual(required, set(call), "the example misses a required variable")
        self.assertLessEqual(set(call) - {"source"}, set(module_blocks("variable")))

    def test_checkov_suppressions_give_reasons(self):
        for tf in MODULE.rglob("*.tf"):
            for line in tf.read_text().splitlines():
                if "checkov:skip" in line:
                    m = re.search(r"#checkov:skip=(CKV2?_AWS_\d+):(.{20,})", line)
                    self.assertIsNotNone(m, f"{tf.name}: suppression without a reason: {line.strip()}")


class MatchesTheCdkConstruct(unittest.TestCase):
    def test_variables_match_props(self):
        props = cdk_props()
        variables = module_blocks("variable")
        expected = {}
        for prop, optional in props.items():
            tf = CDK_TO_TF[prop] if prop in CDK_TO_TF else snake(prop)
            if tf is not None:
                expected[tf] = optional
        self.assertEqual(set(expected), set(variables) - TF_ONLY)
        for name, optional in expected.items():
            with self.subTest(variable=name):
                self.assertEqual("default" in variables[name], optional,
                                 "optional in one, required in the other")

    def test_defaults_match(self):
        defaults = cdk_defaults()
        variables = module_blocks("variable")
        self.assertGreaterEqual(len(defaults), 10)
        for prop, optional in cdk_props().items():
            tf = snake(prop)
            if not optional or tf not in variables:
                continue
            with self.subTest(variable=tf):
                # Props without an entry in DEFAULTS default to "not set": null here.
                self.assertEqual(variables[tf]["default"], defaults.get(prop))

    def test_outputs_match_attributes(self):
        outputs = set(module_blocks("output"))
        self.assertEqual(outputs, {snake(a) for a in cdk_attributes()})


class Resources(unittest.TestCase):
    def test_function(self):
        fn = resources("aws_lambda_function")["this"]
        self.assertEqual(fn["architectures"], ["arm64"])
        self.assertEqual(fn["runtime"], "provided.al2023")
        self.assertEqual(fn["handler"], "bootstrap")
        self.assertEqual(fn["reserved_concurrent_executions"], 1)
        env = fn["environment"][0]["variables"]
        self.assertEqual(set(env), {"BINLOG_POLLER_CONFIG", "BINLOG_POLLER_DEADLINE_MARGIN_MS", "RUST_LOG"})
        invoke = resources("aws_lambda_function_event_invoke_config")["this"]
        self.assertEqual(invoke["maximum_retry_attempts"], 0)

    def test_offsets_table(self):
        table = resources("aws_dynamodb_table")["offsets"]
        self.assertEqual(table["billing_mode"], "PAY_PER_REQUEST")
        self.assertEqual(table["hash_key"], "connector")
        self.assertEqual(table["point_in_time_recovery"][0]["enabled"], True)
        self.assertNotIn("ttl", table)

    def test_schedule_polls(self):
        schedule = resources("aws_scheduler_schedule")["poll"]
        target = schedule["target"][0]
        self.assertIn('action = "poll"', target["input"])
        self.assertEqual(target["retry_policy"][0]["maximum_retry_attempts"], 0)

    def test_policy_grants_only_the_listed_actions(self):
        text = (MODULE / "main.tf").read_text()
        doc = re.search(r'data "aws_iam_policy_document" "function" \{(.*?)\n\}', text, re.S).group(1)
        lists = re.findall(r"actions\s+=\s+\[([^\]]*)\]", doc)
        actions = {a for lst in lists for a in re.findall(r'"([a-z-]+:[A-Za-z]+)"', lst)}
        self.assertEqual(actions, {
            "dynamodb:GetItem", "dynamodb:UpdateItem", "secretsmanager:GetSecretValue", "kms:Decrypt",
            "rds-db:connect", "kafka-cluster:Connect", "kafka-cluster:DescribeTopic",
            "kafka-cluster:CreateTopic", "kafka-cluster:WriteData",
        })
        self.assertNotIn('"*"', doc)

    def test_alarms_and_dashboard_use_the_functions_metric_names(self):
        alarms = resources("aws_cloudwatch_metric_alarm")
        self.assertEqual(set(alarms), {"lambda", "lag", "stalled"})
        self.assertEqual(alarms["lambda"]["namespace"], "AWS/Lambda")
        for_each = (MODULE / "monitoring.tf").read_text()
        self.assertRegex(for_each, r'errors\s+=\s+\{ metric = "Errors"')
        self.assertRegex(for_each, r'throttles\s+=\s+\{ metric = "Throttles"')
        self.assertEqual(alarms["stalled"]["treat_missing_data"], "breaching")
        emf = telemetry_metrics()
        for name in ("lag", "stalled"):
            self.assertIn(alarms[name]["metric_name"], emf)
        monitoring = (MODULE / "monitoring.tf").read_text()
        listed = re.search(r'for k in \[([^\]]+)\]', monitoring).group(1)
        self.assertEqual(set(re.findall(r'"(\w+)"', listed)), emf)

    def test_summary_query_is_the_readmes(self):
        monitoring = (MODULE / "monitoring.tf").read_text()
        query = json.loads(re.search(r'summary_query\s+=\s+("(?:[^"\\]|\\.)*")', monitoring).group(1))
        self.assertIn(query, (REPO / "README.md").read_text())


if __name__ == "__main__":
    unittest.main()
