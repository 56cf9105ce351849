import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { BinlogPoller, BinlogPollerProps, METRICS, SUMMARY_QUERY, validateProps } from '../lib/binlog-poller';

const REPO = path.join(__dirname, '..', '..', '..');
const MSK = 'arn:aws:kafka:eu-west-1:123456789012:cluster/cdc/abcd-1234-5';

/** `config` entries are added to the base config; an undefined one removes that key. */
type Overrides = Partial<BinlogPollerProps> & { config?: Record<string, string | undefined> };

function synth(overrides: Overrides = {}): Template {
  // Synthesized without building the Rust function, as `npm run synth` does.
  const app = new App({
    context: { '@aws-cdk/core:validateAgainstDefaultRules': true },
    postCliContext: { 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a', 'eu-west-1b'], privateSubnetIds: ['subnet-0123456789abcdef1', 'subnet-0123456789abcdef2'],
  });
  const { config, ...rest } = overrides;
  const connectorConfig = Object.fromEntries(Object.entries({
    'database.hostname': 'db.example', 'database.user': 'cdc', 'topic.prefix': 'dbserver1',
    'kafka.bootstrap.servers': 'b-1:9098', ...config,
  }).filter((e): e is [string, string] => e[1] !== undefined));
  new BinlogPoller(stack, 'Poller', {
    connectorName: 'inventory',
    connectorConfig,
    vpc,
    vpcSubnets: { subnets: vpc.privateSubnets },
    securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0123456789abcdef0')],
    ...rest,
  });
  return Template.fromStack(stack);
}

/** Every statement of every policy attached to the function's role. */
function functionStatements(t: Template): any[] {
  const policies = t.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p: any) => JSON.stringify(p.Properties.Roles).includes('PollerFunctionServiceRole'))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

describe('function', () => {
  test('arm64 custom runtime in the VPC, one at a time, no async retries', () => {
    const t = synth();
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'inventory',
      Architectures: ['arm64'],
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      MemorySize: 512,
      Timeout: 60,
      ReservedConcurrentExecutions: 1,
      VpcConfig: { SubnetIds: ['subnet-0123456789abcdef1', 'subnet-0123456789abcdef2'], SecurityGroupIds: ['sg-0123456789abcdef0'] },
      Environment: {
        Variables: {
          BINLOG_POLLER_DEADLINE_MARGIN_MS: '5000',
          RUST_LOG: 'info,rskafka=warn',
          BINLOG_POLLER_CONFIG: Match.anyValue(),
        },
      },
      LoggingConfig: { LogGroup: Match.anyValue() },
    });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 120,
    });
  });

  test('the config is the connector JSON with the offsets table added', () => {
    const t = synth({ timeoutSeconds: 120, memorySizeMb: 1024, deadlineMarginMs: 8000 });
    const fn: any = Object.values(t.findResources('AWS::Lambda::Function'))[0];
    expect(fn.Properties.Timeout).toBe(120);
    expect(fn.Properties.MemorySize).toBe(1024);
    expect(fn.Properties.Environment.Variables.BINLOG_POLLER_DEADLINE_MARGIN_MS).toBe('8000');
    const parts = fn.Properties.Environment.Variables.BINLOG_POLLER_CONFIG['Fn::Join'][1];
    const tableRef = parts.find((p: any) => typeof p === 'object');
    expect(tableRef.Ref).toMatch(/^PollerOffsets/);
    const json = JSON.parse(parts.map((p: any) => (typeof p === 'string' ? p : 'TABLE')).join(''));
    expect(json).toEqual({
      name: 'inventory',
      config: {
        'database.hostname': 'db.example', 'database.user': 'cdc', 'topic.prefix': 'dbserver1',
        'kafka.bootstrap.servers': 'b-1:9098',
        'offset.storage': 'dynamodb', 'offset.storage.dynamodb.table': 'TABLE',
      },
    });
  });
});

test('the schedule invokes a poll every minute by default, and follows the props', () => {
  synth().hasResourceProperties('AWS::Scheduler::Schedule', {
    ScheduleExpression: 'rate(1 minute)',
    State: 'ENABLED',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: { Input: '{"action":"poll"}', RetryPolicy: { MaximumRetryAttempts: 0 } },
  });
  synth({ scheduleExpression: 'rate(5 minutes)', scheduleEnabled: false }).hasResourceProperties('AWS::Scheduler::Schedule', {
    ScheduleExpression: 'rate(5 minutes)',
    State: 'DISABLED',
  });
});

test('the offsets table: on-demand, point-in-time recovery, deletion protection, retained, no TTL', () => {
  const t = synth();
  t.hasResource('AWS::DynamoDB::GlobalTable', {
    Properties: {
      TableName: 'inventory-offsets',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'connector', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'connector', AttributeType: 'S' }],
      Replicas: [Match.objectLike({
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      })],
      TimeToLiveSpecification: Match.absent(),
    },
    DeletionPolicy: 'Retain',
  });
  synth({ offsetsTableName: 'offsets', offsetsTableDeletionProtection: false }).hasResourceProperties('AWS::DynamoDB::GlobalTable', {
    TableName: 'offsets',
    Replicas: [Match.objectLike({ DeletionProtectionEnabled: false })],
  });
});

test('the log group keeps logs for the configured days', () => {
  synth().hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/lambda/inventory', RetentionInDays: 30 });
  synth({ logRetentionDays: 90 }).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  expect(() => synth({ logRetentionDays: 31 })).toThrow(/logRetentionDays 31 is not one CloudWatch offers/);
});

describe('least-privilege IAM', () => {
  test('password login, no MSK IAM: DynamoDB on the one table and nothing else', () => {
    const statements = functionStatements(synth());
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(statements[0].Resource['Fn::GetAtt'][0]).toMatch(/^PollerOffsets/);
  });

  test('secrets, RDS IAM and MSK IAM each add exactly their grant', () => {
    const statements = functionStatements(synth({
      config: { 'database.iam.auth': 'true', 'kafka.sasl.mechanism': 'AWS_MSK_IAM' },
      secretArns: ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka-AbCdEf'],
      secretKmsKeyArns: ['arn:aws:kms:eu-west-1:123456789012:key/k1'],
      dbResourceId: 'cluster-ABC',
      mskClusterArn: MSK,
    }));
    const byAction = Object.fromEntries(statements.map((s: any) => [[s.Action].flat().join(','), s]));
    expect(Object.keys(byAction).sort()).toEqual([
      'dynamodb:GetItem,dynamodb:UpdateItem',
      'kafka-cluster:Connect',
      'kafka-cluster:DescribeTopic,kafka-cluster:CreateTopic,kafka-cluster:WriteData',
      'kms:Decrypt',
      'rds-db:connect',
      'secretsmanager:GetSecretValue',
    ]);
    expect(byAction['secretsmanager:GetSecretValue'].Resource).toBe('arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka-AbCdEf');
    expect(byAction['kms:Decrypt'].Condition).toEqual({ StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } });
    expect(JSON.stringify(byAction['rds-db:connect'].Resource)).toContain(':rds-db:eu-west-1:123456789012:dbuser:cluster-ABC/cdc');
    expect(byAction['kafka-cluster:Connect'].Resource).toBe(MSK);
    expect(byAction['kafka-cluster:DescribeTopic,kafka-cluster:CreateTopic,kafka-cluster:WriteData'].Resource).toEqual([
      'arn:aws:kafka:eu-west-1:123456789012:topic/cdc/abcd-1234-5/dbserver1',
      'arn:aws:kafka:eu-west-1:123456789012:topic/cdc/abcd-1234-5/dbserver1.*',
      'arn:aws:kafka:eu-west-1:123456789012:topic/cdc/abcd-1234-5/__debezium-heartbeat.dbserver1',
    ]);
    for (const s of statements) expect(JSON.stringify(s.Resource)).not.toBe('"*"');
  });

  test('the schedule may invoke only this function', () => {
    const t = synth();
    const statements = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p: any) => JSON.stringify(p.Properties.Roles).includes('SchedulerRole'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toBe('lambda:InvokeFunction');
    expect(JSON.stringify(statements[0].Resource)).toContain('PollerFunction');
  });
});

describe('RDS API grants, when the config names the database by identifier', () => {
  /** The RDS statements, each as `action -> resources` with the partition filled in. */
  function rdsGrants(t: Template): Record<string, string[]> {
    const text = (r: any): string => (typeof r === 'string' ? r
      : r['Fn::Join'] ? r['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : p.Ref === 'AWS::Partition' ? 'aws' : JSON.stringify(p))).join('')
        : JSON.stringify(r));
    const grants: Record<string, string[]> = {};
    for (const s of functionStatements(t)) {
      const actions = [s.Action].flat();
      if (!actions.some((a: string) => a.startsWith('rds:'))) continue;
      // One action per statement: one resource type each.
      expect(actions).toHaveLength(1);
      expect(grants[actions[0]]).toBeUndefined();
      grants[actions[0]] = [s.Resource].flat().map(text);
    }
    return grants;
  }
  const arn = 'arn:aws:rds:eu-west-1:123456789012';

  test('rds.cluster.identifier: the cluster and cluster parameter groups, no instance', () => {
    expect(rdsGrants(synth({ config: { 'database.hostname': undefined, 'rds.cluster.identifier': 'Inventory-Cluster' } }))).toEqual({
      'rds:DescribeDBClusters': [`${arn}:cluster:inventory-cluster`],
      'rds:DescribeDBClusterParameters': [`${arn}:cluster-pg:*`],
    });
  });

  test('rds.instance.identifier: the one instance and DB parameter groups', () => {
    expect(rdsGrants(synth({ config: { 'database.hostname': undefined, 'rds.instance.identifier': 'inventory-db' } }))).toEqual({
      'rds:DescribeDBInstances': [`${arn}:db:inventory-db`],
      'rds:DescribeDBParameters': [`${arn}:pg:*`],
    });
  });

  test('rdsParameterGroupNames narrows the parameter group grants', () => {
    const rdsParameterGroupNames = ['CDC-Binlog', 'cdc-binlog-next'];
    expect(rdsGrants(synth({ config: { 'rds.cluster.identifier': 'inventory' }, rdsParameterGroupNames }))['rds:DescribeDBClusterParameters'])
      .toEqual([`${arn}:cluster-pg:cdc-binlog`, `${arn}:cluster-pg:cdc-binlog-next`]);
    expect(rdsGrants(synth({ config: { 'rds.instance.identifier': 'inventory' }, rdsParameterGroupNames }))['rds:DescribeDBParameters'])
      .toEqual([`${arn}:pg:cdc-binlog`, `${arn}:pg:cdc-binlog-next`]);
  });

  test('rds.region moves the ARNs; database.hostname next to an identifier keeps the grants', () => {
    const grants = rdsGrants(synth({ config: { 'rds.cluster.identifier': 'inventory', 'rds.region': 'us-east-1' } }));
    expect(grants['rds:DescribeDBClusters']).toEqual(['arn:aws:rds:us-east-1:123456789012:cluster:inventory']);
    expect(grants['rds:DescribeDBClusterParameters']).toEqual(['arn:aws:rds:us-east-1:123456789012:cluster-pg:*']);
    expect(rdsGrants(synth({ config: { 'rds.instance.identifier': 'inventory-db', 'rds.region': 'us-east-1' } }))['rds:DescribeDBInstances'])
      .toEqual(['arn:aws:rds:us-east-1:123456789012:db:inventory-db']);
  });

  test('no identifier, no RDS API grant', () => {
    expect(rdsGrants(synth())).toEqual({});
  });

  test('both identifiers, neither hostname nor identifier, rds.region or group names without an identifier are problems', () => {
    const base = { connectorName: 'inventory', vpc: undefined as never, vpcSubnets: {}, securityGroups: [] };
    const problems = (connectorConfig: Record<string, string>, extra: Partial<BinlogPollerProps> = {}) =>
      validateProps({ ...base, connectorConfig: { 'topic.prefix': 'p', ...connectorConfig }, ...extra });
    expect(problems({})).toEqual(['connectorConfig must set database.hostname or rds.cluster.identifier / rds.instance.identifier']);
    expect(problems({ 'rds.cluster.identifier': 'a', 'rds.instance.identifier': 'b' })).toEqual([
      'connectorConfig must not set both rds.cluster.identifier and rds.instance.identifier: the database is a cluster or an instance',
    ]);
    expect(problems({ 'database.hostname': 'db', 'rds.region': 'us-east-1' })).toEqual([
      'rds.region is set without rds.cluster.identifier or rds.instance.identifier',
    ]);
    expect(problems({ 'rds.instance.identifier': 'b', 'rds.region': 'us-east-1' })).toEqual([]);
    expect(problems({ 'database.hostname': 'db' }, { rdsParameterGroupNames: ['g'] })).toEqual([
      expect.stringContaining('rdsParameterGroupNames is set but connectorConfig sets neither'),
    ]);
    expect(problems({ 'database.hostname': 'db', 'rds.instance.identifier': 'b' }, { rdsParameterGroupNames: ['g'] })).toEqual([]);
    expect(problems({ 'rds.cluster.identifier': 'a' })).toEqual([]);
    expect(() => synth({ config: { 'rds.cluster.identifier': 'a', 'rds.instance.identifier': 'b' } })).toThrow(/must not set both/);
    expect(() => synth({ config: { 'rds.region': 'us-east-1' } })).toThrow(/rds.region is set without/);
  });
});

describe('alarms and dashboard', () => {
  test('errors, throttles, lag and stall alarms on the function and its EMF metrics', () => {
    const t = synth({ lagAlarmThresholdSeconds: 120, noSuccessfulPollMinutes: 15 });
    t.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'inventory-errors', Namespace: 'AWS/Lambda', MetricName: 'Errors', Threshold: 1,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'inventory-throttles', Namespace: 'AWS/Lambda', MetricName: 'Throttles',
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'inventory-replication-lag', Namespace: 'BinlogPoller', MetricName: 'ReplicationLagSeconds',
      Dimensions: [{ Name: 'Connector', Value: 'inventory' }], Statistic: 'Maximum', Threshold: 120,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'inventory-no-successful-poll', Namespace: 'BinlogPoller', MetricName: 'SuccessfulPolls',
      Dimensions: [{ Name: 'Connector', Value: 'inventory' }], Period: 900, Statistic: 'Sum',
      ComparisonOperator: 'LessThanThreshold', Threshold: 1, TreatMissingData: 'breaching',
    });
    for (const alarm of Object.values(t.findResources('AWS::CloudWatch::Alarm')) as any[]) {
      expect(alarm.Properties.AlarmActions).toBeUndefined();
    }
  });

  test('alarms notify the SNS topic when one is given', () => {
    const topic = 'arn:aws:sns:eu-west-1:123456789012:oncall';
    const t = synth({ alarmTopicArn: topic });
    for (const alarm of Object.values(t.findResources('AWS::CloudWatch::Alarm')) as any[]) {
      expect(alarm.Properties.AlarmActions).toEqual([topic]);
      expect(alarm.Properties.OKActions).toEqual([topic]);
    }
  });

  test('the dashboard graphs every metric the function writes and the summary query', () => {
    const t = synth();
    const dashboards = Object.values(t.findResources('AWS::CloudWatch::Dashboard')) as any[];
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0].Properties.DashboardBody);
    for (const [key, name] of Object.entries(METRICS)) {
      if (key === 'namespace' || key === 'dimension') continue;
      expect(body).toContain(`\\"${name}\\"`);
    }
    expect(body).toContain('invocation finished');
  });
});

test('metric names are the ones src/platform/telemetry.rs writes, and docs/operations.md shows the same query', () => {
  const telemetry = fs.readFileSync(path.join(REPO, 'src', 'platform', 'telemetry.rs'), 'utf8');
  const consts = [...telemetry.matchAll(/pub const [A-Z_]+: &str = "([^"]+)";/g)].map((m) => m[1]);
  expect([...consts].sort()).toEqual([...Object.values(METRICS)].sort());
  const operations = fs.readFileSync(path.join(REPO, 'docs', 'operations.md'), 'utf8');
  expect(operations).toContain(SUMMARY_QUERY);
});

test('bad props are reported together, before anything is created', () => {
  const problems = validateProps({
    connectorName: 'bad name',
    connectorConfig: {
      'database.password': 'hunter2',
      'database.iam.auth': 'true',
      'kafka.sasl.mechanism': 'AWS_MSK_IAM',
      'offset.storage': 'file',
    },
    vpc: undefined as never,
    vpcSubnets: {},
    securityGroups: [],
    timeoutSeconds: 5,
  });
  expect(problems).toEqual([
    expect.stringContaining('connectorName'),
    'connectorConfig must set topic.prefix',
    'connectorConfig must set database.hostname or rds.cluster.identifier / rds.instance.identifier',
    expect.stringContaining('must not set offset.storage'),
    expect.stringContaining('set dbResourceId'),
    expect.stringContaining('set mskClusterArn'),
    expect.stringContaining('timeoutSeconds must be 10-900'),
    'deadlineMarginMs must be less than the timeout',
    expect.stringContaining('database.password holds a literal value'),
  ]);
  expect(problems.join(' ')).not.toContain('hunter2');
  expect(() => synth({ config: { 'database.password': 'hunter2' } })).toThrow(/database.password holds a literal value/);
  // A secret reference is fine.
  expect(() => synth({ config: { 'database.password': '${secretsmanager:prod/cdc#password}' } })).not.toThrow();
});
