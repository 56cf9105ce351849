"""Checks of the Terraform module that need no AWS account and no terraform binary.

- Every .tf file parses (python-hcl2), and the module declares exactly the variables it uses.
- The module's variables and outputs match the CDK construct's props and attributes, with
  the same defaults (DEFAULTS in infra/cdk/lib/binlog-poller.ts), so the two stay in step.
- The resources carry the settings the design depends on (arm64, reserved concurrency 1,
  no async retries, point-in-time recovery, the poll input, the alarms on the metric names
  src/platform/telemetry.rs writes), and every checkov suppression states its reason.
- The RDS API grants and the checks on rds.cluster.identifier / rds.instance.identifier,
  evaluated for sample configs (a small HCL evaluator below stands in for terraform), are
  the ones the CDK construct synthesizes and reports for the same configs.

Run by infra/test.sh: python -m unittest discover -s infra/tests
"""

import json
import os
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


def data_sources(dtype: str) -> dict:
    """The module's data sources of one type, by name."""
    found = {}
    for tf in sorted(MODULE.glob("*.tf")):
        for block in load(tf).get("data", []):
            found.update(block.get(dtype, {}))
    return found


class _Hcl:
    """Parses one HCL template or expression (as python-hcl2 returns them) into a function of
    the scope. Only what the module's RDS grants and checks use: templates, references,
    indexing, conditionals, comparisons, !, && and ||, list literals, for-expressions over a
    list or a map, and the functions in FUNCTIONS. Anything else raises SyntaxError."""

    FUNCTIONS = {
        "lookup": lambda m, k, default: m.get(k, default),
        "lower": str.lower,
        "coalesce": lambda *args: next(a for a in args if a not in (None, "")),
        "length": len,
        "anytrue": any,
        "alltrue": all,
        "contains": lambda collection, v: v in collection,
        "keys": sorted,
    }
    COMPARISONS = [("==", lambda a, b: a == b), ("!=", lambda a, b: a != b), ("<=", lambda a, b: a <= b),
                   (">=", lambda a, b: a >= b), ("<", lambda a, b: a < b), (">", lambda a, b: a > b)]

    def __init__(self, text: str):
        self.s, self.i = text, 0

    def fail(self, what):
        raise SyntaxError(f"{what} at {self.i} in {self.s!r}")

    def ws(self):
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def peek(self, token):
        self.ws()
        return self.s.startswith(token, self.i)

    def take(self, token):
        if self.peek(token):
            self.i += len(token)
            return True
        return False

    def expect(self, token):
        if not self.take(token):
            self.fail(f"expected {token!r}")

    def ident(self):
        self.ws()
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*").match(self.s, self.i)
        if not m:
            self.fail("expected a name")
        self.i = m.end()
        return m.group()

    def template(self, end):
        """Literal text and ${...} up to `end` (a closing quote, or None: the whole text)."""
        parts, literal = [], []
        while True:
            if self.i >= len(self.s):
                if end is None:
                    break
                self.fail("unterminated string")
            if end is not None and self.s[self.i] == end:
                self.i += 1
                break
            if self.s.startswith("$${", self.i):
                literal.append("${")
                self.i += 3
            elif self.s.startswith("${", self.i):
                if literal:
                    parts.append("".join(literal))
                    literal = []
                self.i += 2
                parts.append(self.expr())
                self.expect("}")
            elif self.s[self.i] == "\\" and end is not None:
                literal.append({"n": "\n", "t": "\t"}.get(self.s[self.i + 1], self.s[self.i + 1]))
                self.i += 2
            else:
                literal.append(self.s[self.i])
                self.i += 1
        if literal:
            parts.append("".join(literal))
        if len(parts) == 1 and callable(parts[0]):
            return parts[0]  # "${x}" is x itself, not its string form

        def text(v):
            return ("true" if v else "false") if isinstance(v, bool) else str(v)
        return lambda env: "".join(p if isinstance(p, str) else text(p(env)) for p in parts)

    def expr(self):
        cond = self.or_()
        if not self.take("?"):
            return cond
        yes = self.expr()
        self.expect(":")
        no = self.expr()
        return lambda env: yes(env) if cond(env) else no(env)

    def or_(self):
        left = self.and_()
        while self.take("||"):
            left = (lambda a, b: lambda env: a(env) or b(env))(left, self.and_())
        return left

    def and_(self):
        left = self.comparison()
        while self.take("&&"):
            left = (lambda a, b: lambda env: a(env) and b(env))(left, self.comparison())
        return left

    def comparison(self):
        left = self.unary()
        for token, op in self.COMPARISONS:
            if self.take(token):
                right = self.unary()
                return lambda env: op(left(env), right(env))
        return left

    def unary(self):
        if self.peek("!") and not self.peek("!="):
            self.i += 1
            inner = self.unary()
            return lambda env: not inner(env)
        return self.postfix()

    def postfix(self):
        value = self.primary()
        while True:
            if self.take("."):
                value = (lambda v, name: lambda env: v(env)[name])(value, self.ident())
            elif self.take("["):
                value = (lambda v, key: lambda env: v(env)[key(env)])(value, self.expr())
                self.expect("]")
            else:
                return value

    def primary(self):
        self.ws()
        if self.take('"'):
            return self.template('"')
        if self.take("("):
            inner = self.expr()
            self.expect(")")
            return inner
        if self.take("["):
            if re.compile(r"for\s").match(self.s, self.i):
                return self.for_expr()
            items = []
            while not self.take("]"):
                items.append(self.expr())
                self.take(",")
            return lambda env: [item(env) for item in items]
        m = re.compile(r"-?\d+").match(self.s, self.i)
        if m:
            self.i = m.end()
            return lambda env: int(m.group())
        name = self.ident()
        if name in ("true", "false", "null"):
            return lambda env: {"true": True, "false": False, "null": None}[name]
        if self.take("("):
            if name not in self.FUNCTIONS:
                self.fail(f"function {name} is not known here")
            fn, args = self.FUNCTIONS[name], []
            while not self.take(")"):
                args.append(self.expr())
                self.take(",")
            return lambda env: fn(*[a(env) for a in args])
        return lambda env: env[name]

    def for_expr(self):
        self.i += len("for")
        names = [self.ident()]
        if self.take(","):
            names.append(self.ident())
        if self.ident() != "in":
            self.fail("expected 'in'")
        collection = self.expr()
        self.expect(":")
        body = self.expr()
        self.expect("]")

        def run(env):
            c = collection(env)
            out = []
            for k, v in (c.items() if isinstance(c, dict) else enumerate(c)):
                out.append(body({**env, **dict(zip(names, [v] if len(names) == 1 else [k, v]))}))
            return out
        return run


def evaluate(value, env):
    """A value of the parsed module (template string, list, map or literal), evaluated."""
    if isinstance(value, str):
        parser = _Hcl(value)
        fn = parser.template(None)
        return fn(env)
    if isinstance(value, list):
        return [evaluate(v, env) for v in value]
    if isinstance(value, dict):
        return {k: evaluate(v, env) for k, v in value.items()}
    return value


class _Locals:
    """local.<name>, evaluated when first used (the others may name resources)."""

    def __init__(self, env):
        self.raw = {k: v for k, v in module_blocks("locals").items() if not k.startswith("__")}
        self.env, self.cache = env, {}

    def __getitem__(self, name):
        if name not in self.cache:
            self.cache[name] = evaluate(self.raw[name], self.env)
        return self.cache[name]


ACCOUNT, REGION = "123456789012", "eu-west-1"


def module_scope(connector_config: dict, **variables) -> dict:
    """What var, local and data hold in the module called with these inputs (the others at
    their defaults), in account ACCOUNT, region REGION, partition aws."""
    values = {name: block.get("default") for name, block in module_blocks("variable").items()}
    values.update(connector_config=connector_config, **variables)
    env = {"var": values, "data": {
        "aws_partition": {"current": {"partition": "aws"}},
        "aws_region": {"current": {"region": REGION}},
        "aws_caller_identity": {"current": {"account_id": ACCOUNT}},
    }}
    env["local"] = _Locals(env)
    return env


def tf_rds_grants(env: dict) -> dict:
    """The function policy's rds: statements the module writes, as action -> resources."""
    doc = data_sources("aws_iam_policy_document")["function"]
    statements = [(None, s) for s in doc.get("statement", [])]
    statements += [(d["statement"]["for_each"], c) for d in doc.get("dynamic", []) for c in d["statement"]["content"]]
    grants = {}
    for for_each, s in statements:
        actions = s["actions"]
        if not any(a.startswith("rds:") for a in actions) or (for_each is not None and not evaluate(for_each, env)):
            continue
        # One action per statement, one resource type each.
        assert len(actions) == 1 and actions[0] not in grants, actions
        grants[actions[0]] = evaluate(s["resources"], env)
    return grants


def tf_rds_problems(env: dict) -> list:
    """Error messages of the module's checks on the database's name that fail."""
    checks = module_blocks("variable")["connector_config"]["validation"]
    checks += resources("aws_lambda_function")["this"]["lifecycle"][0]["precondition"]
    concerns_rds = [c for c in checks if re.search(r"rds|hostname", c["condition"])]
    return [c["error_message"] for c in concerns_rds if not evaluate(c["condition"], env)]


def cdk_rds(scenarios: dict) -> dict:
    """For each scenario (connector config, rdsParameterGroupNames): the construct's problems
    and, when it has none, its rds: statements as action -> resources (partition aws)."""
    script = r"""
const { App, Stack } = require('aws-cdk-lib');
const ec2 = require('aws-cdk-lib/aws-ec2');
const { BinlogPoller, validateProps } = require('./lib/binlog-poller');
const text = (r) => typeof r === 'string' ? r
  : r['Fn::Join'][1].map((p) => typeof p === 'string' ? p : p.Ref === 'AWS::Partition' ? 'aws' : JSON.stringify(p)).join('');
const out = {};
for (const [name, [config, groups]] of Object.entries(JSON.parse(process.env.BP_SCENARIOS))) {
  const app = new App({ postCliContext: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'S', { env: { account: process.env.BP_ACCOUNT, region: process.env.BP_REGION } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['a'], privateSubnetIds: ['subnet-1'] });
  const props = {
    connectorName: 'c', connectorConfig: config, vpc, vpcSubnets: { subnets: vpc.privateSubnets },
    securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-1')], rdsParameterGroupNames: groups,
  };
  const problems = validateProps(props);
  let grants = null;
  if (problems.length === 0) {
    new BinlogPoller(stack, 'P', props);
    grants = {};
    for (const r of Object.values(app.synth().getStackByName('S').template.Resources)) {
      if (r.Type !== 'AWS::IAM::Policy') continue;
      for (const s of r.Properties.PolicyDocument.Statement) {
        const actions = [s.Action].flat();
        if (actions.some((a) => a.startsWith('rds:'))) grants[actions.join(',')] = [s.Resource].flat().map(text);
      }
    }
  }
  out[name] = { problems, grants };
}
console.log(JSON.stringify(out));
"""
    env = {"BP_SCENARIOS": json.dumps(scenarios), "BP_ACCOUNT": ACCOUNT, "BP_REGION": REGION}
    out = subprocess.run(
        ["node", "-r", "ts-node/register/transpile-only", "-e", script],
        cwd=INFRA / "cdk", check=True, capture_output=True, text=True, timeout=300,
        env={**os.environ, **env},
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
            "rds:DescribeDBClusters", "rds:DescribeDBInstances", "rds:DescribeDBClusterParameters",
            "rds:DescribeDBParameters",
        })
        self.assertNotIn('"*"', doc)

    def test_rds_grants(self):
        arn = f"arn:aws:rds:{REGION}:{ACCOUNT}"
        base = {"topic.prefix": "p", "database.user": "cdc"}

        def grants(config, **variables):
            return tf_rds_grants(module_scope({**base, **config}, **variables))
        self.assertEqual(grants({"rds.cluster.identifier": "Inventory-Cluster"}), {
            "rds:DescribeDBClusters": [f"{arn}:cluster:inventory-cluster"],
            "rds:DescribeDBClusterParameters": [f"{arn}:cluster-pg:*"],
        })
        self.assertEqual(grants({"rds.instance.identifier": "inventory-db"}), {
            "rds:DescribeDBInstances": [f"{arn}:db:inventory-db"],
            "rds:DescribeDBParameters": [f"{arn}:pg:*"],
        })
        names = ["CDC-Binlog", "cdc-binlog-next"]
        self.assertEqual(
            grants({"rds.cluster.identifier": "inventory"}, rds_parameter_group_names=names)["rds:DescribeDBClusterParameters"],
            [f"{arn}:cluster-pg:cdc-binlog", f"{arn}:cluster-pg:cdc-binlog-next"])
        self.assertEqual(
            grants({"rds.instance.identifier": "inventory"}, rds_parameter_group_names=names)["rds:DescribeDBParameters"],
            [f"{arn}:pg:cdc-binlog", f"{arn}:pg:cdc-binlog-next"])
        in_us = grants({"database.hostname": "db", "rds.cluster.identifier": "inventory", "rds.region": "us-east-1"})
        self.assertEqual(in_us["rds:DescribeDBClusters"], [f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:inventory"])
        self.assertEqual(in_us["rds:DescribeDBClusterParameters"], [f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster-pg:*"])
        self.assertEqual(
            grants({"rds.instance.identifier": "inventory-db", "rds.region": "us-east-1"})["rds:DescribeDBInstances"],
            [f"arn:aws:rds:us-east-1:{ACCOUNT}:db:inventory-db"])
        self.assertEqual(grants({"database.hostname": "db"}), {})

    def test_rds_problems(self):
        base = {"topic.prefix": "p"}

        def problems(config, **variables):
            return tf_rds_problems(module_scope({**base, **config}, **variables))
        self.assertEqual(problems({}), [
            "connector_config must set database.hostname or rds.cluster.identifier / rds.instance.identifier."])
        self.assertEqual(problems({"rds.cluster.identifier": "a", "rds.instance.identifier": "b"}), [
            "connector_config must not set both rds.cluster.identifier and rds.instance.identifier: the database is a cluster or an instance."])
        self.assertEqual(problems({"database.hostname": "db", "rds.region": "us-east-1"}), [
            "rds.region is set without rds.cluster.identifier or rds.instance.identifier."])
        self.assertEqual(problems({"rds.instance.identifier": "b", "rds.region": "us-east-1"}), [])
        self.assertEqual(len(problems({"database.hostname": "db"}, rds_parameter_group_names=["g"])), 1)
        self.assertEqual(problems({"database.hostname": "db", "rds.instance.identifier": "b"}, rds_parameter_group_names=["g"]), [])
        self.assertEqual(problems({"rds.cluster.identifier": "a"}), [])

    def test_rds_grants_and_problems_match_the_construct(self):
        base = {"topic.prefix": "p", "database.user": "cdc"}
        scenarios = {
            "cluster": ({"rds.cluster.identifier": "Inventory"}, []),
            "cluster in rds.region, hostname too": (
                {"database.hostname": "db", "rds.cluster.identifier": "inventory", "rds.region": "us-east-1"}, []),
            "cluster, narrowed": ({"rds.cluster.identifier": "inventory"}, ["CDC-Binlog", "cdc-next"]),
            "instance": ({"rds.instance.identifier": "inventory-db"}, []),
            "instance in rds.region": ({"rds.instance.identifier": "inventory-db", "rds.region": "us-east-1"}, []),
            "instance, narrowed": ({"rds.instance.identifier": "inventory-db"}, ["cdc-binlog"]),
            "hostname": ({"database.hostname": "db"}, []),
            "both identifiers": ({"rds.cluster.identifier": "a", "rds.instance.identifier": "b"}, []),
            "neither": ({}, []),
            "rds.region, no identifier": ({"database.hostname": "db", "rds.region": "us-east-1"}, []),
            "rds.region alone": ({"rds.region": "us-east-1"}, []),
            "group names, no identifier": ({"database.hostname": "db"}, ["g"]),
        }
        scenarios = {name: ({**base, **config}, groups) for name, (config, groups) in scenarios.items()}
        cdk = cdk_rds(scenarios)

        def as_cdk(message):  # the same words, in the construct's names
            return message.rstrip(".").replace("connector_config", "connectorConfig").replace(
                "rds_parameter_group_names", "rdsParameterGroupNames")
        for name, (config, groups) in scenarios.items():
            with self.subTest(scenario=name):
                env = module_scope(config, rds_parameter_group_names=groups)
                self.assertEqual([as_cdk(m) for m in tf_rds_problems(env)], cdk[name]["problems"])
                if not cdk[name]["problems"]:
                    self.assertEqual(tf_rds_grants(env), cdk[name]["grants"])
        self.assertGreater(sum(bool(r["grants"]) for r in cdk.values()), 3)
        self.assertGreater(sum(bool(r["problems"]) for r in cdk.values()), 2)

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

    def test_summary_query_is_the_operations_docs(self):
        monitoring = (MODULE / "monitoring.tf").read_text()
        query = json.loads(re.search(r'summary_query\s+=\s+("(?:[^"\\]|\\.)*")', monitoring).group(1))
        self.assertIn(query, (REPO / "docs" / "operations.md").read_text())


if __name__ == "__main__":
    unittest.main()
