// The BinlogPoller construct: one connector, deployed as one scheduled Lambda function.
//
// What it creates, and why each choice:
// - The function (arm64, provided.al2023) built by cargo-lambda from functions/poller. It
//   runs in the database's VPC subnets and security group, because RDS and MSK are private.
//   Reserved concurrency 1: a connector is one binlog reader; the DynamoDB lease already
//   makes a second copy step back, and the reservation keeps it from even starting.
//   Asynchronous retries are off and queued ticks expire after two minutes: the next
//   scheduled tick is the retry, and stale ticks piling up behind a slow poll help nobody.
// - An EventBridge Scheduler schedule (default every minute) invoking it with
//   {"action": "poll"}.
// - The DynamoDB offsets table: on-demand (a few writes a minute), point-in-time recovery
//   and deletion protection (it holds the only record of how far the connector got), no TTL
//   (offsets must never expire).
// - The log group with a retention, the alarms (errors, throttles, replication lag, no
//   successful poll) and a dashboard, all on the metrics the function writes as CloudWatch
//   Embedded Metric Format lines (namespace BinlogPoller, dimension Connector; the names
//   are constants in src/platform/telemetry.rs, which a test holds this file to).
// - Least-privilege IAM: rds-db:connect for the one database user (with IAM auth),
//   kafka-cluster actions on the connector's topics only (with MSK IAM),
//   secretsmanager:GetSecretValue on the named secrets, DynamoDB item access on the one table,
//   and read-only RDS Describe* calls on the one cluster or instance when the config names it
//   by identifier (rds.cluster.identifier / rds.instance.identifier) rather than by endpoint.
//
// The Terraform module in infra/terraform creates the same resources from the same
// inputs; infra/tests/test_infra.py keeps the two interfaces in step.
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Token, Fn, CfnResource } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';

/** CloudWatch names the function writes (src/platform/telemetry.rs `metrics`). */
export const METRICS = {
  namespace: 'BinlogPoller',
  dimension: 'Connector',
  eventsPublished: 'EventsPublished',
  bytesPublished: 'BytesPublished',
  batches: 'Batches',
  replicationLag: 'ReplicationLagSeconds',
  invocationDuration: 'InvocationDurationMs',
  snapshotRows: 'SnapshotRows',
  snapshotRowsRemaining: 'SnapshotRowsRemaining',
  lockHoldMax: 'LockHoldMaxMs',
  successfulPolls: 'SuccessfulPolls',
  failedPolls: 'FailedPolls',
} as const;

/** The Logs Insights query over the one summary line each invocation writes. */
export const SUMMARY_QUERY = [
  'fields @timestamp, connector, action, outcome, events, lag_seconds, snapshot_table, snapshot_rows_remaining, snapshot_eta_seconds, took_ms, error',
  'filter message = "invocation finished"',
  'sort @timestamp desc',
].join('\n| ');

/**
 * Defaults of the optional props, in one place: the construct reads them here, and the
 * Terraform module's variable defaults are tested against them (infra/tests).
 */
export const DEFAULTS = {
  scheduleExpression: 'rate(1 minute)',
  scheduleEnabled: true,
  timeoutSeconds: 60,
  memorySizeMb: 512,
  deadlineMarginMs: 5000,
  logLevel: 'info,rskafka=warn',
  logRetentionDays: 30,
  offsetsTableDeletionProtection: true,
  secretArns: [] as string[],
  secretKmsKeyArns: [] as string[],
  lagAlarmThresholdSeconds: 300,
  noSuccessfulPollMinutes: 10,
  rdsParameterGroupNames: [] as string[],
};

export interface BinlogPollerProps {
  /** Connector name (Debezium's `name`): the offsets key, the metric dimension and the resource name prefix. */
  readonly connectorName: string;
  /**
   * The connector's `config` map, as in a Debezium registration JSON. Must set `topic.prefix`,
   * and `database.hostname` or one of `rds.cluster.identifier` / `rds.instance.identifier`
   * (the function then looks the writer endpoint up with the RDS API, in `rds.region` if set,
   * and the construct grants those read-only calls on that cluster or instance).
   * Secrets go in as `${secretsmanager:ARN#key}` references, never as values. The construct
   * adds `offset.storage=dynamodb` and the table name.
   */
  readonly connectorConfig: Record<string, string>;
  /** The VPC of the database and the brokers. */
  readonly vpc: ec2.IVpc;
  /** Subnets the function runs in: private ones that reach MySQL, Kafka and, through endpoints or NAT, DynamoDB, Secrets Manager, CloudWatch and (with an `rds.*.identifier`) the RDS API. */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** Security groups of the function; MySQL's and the brokers' groups must admit them. */
  readonly securityGroups: ec2.ISecurityGroup[];
  /** How often to poll, as an EventBridge Scheduler expression. @default 'rate(1 minute)' (seconds of latency for a few cents a month) */
  readonly scheduleExpression?: string;
  /** Whether the schedule runs. @default true (false pauses capture; manual invocations still work) */
  readonly scheduleEnabled?: boolean;
  /** Function timeout. @default 60 (one schedule period: a poll ends before the next tick) */
  readonly timeoutSeconds?: number;
  /** Function memory; Lambda's CPU share grows with it. @default 512 (peak RSS draining a backlog stays under 100 MB; see docs/benchmarks.md) */
  readonly memorySizeMb?: number;
  /** Time kept free before the deadline to release the lease and return. @default 5000 */
  readonly deadlineMarginMs?: number;
  /** `RUST_LOG` filter. @default 'info,rskafka=warn' (one summary line per invocation) */
  readonly logLevel?: string;
  /** Days CloudWatch keeps the logs. @default 30 */
  readonly logRetentionDays?: number;
  /** Name of the offsets table. @default '<connectorName>-offsets' */
  readonly offsetsTableName?: string;
  /** Deletion protection on the offsets table. @default true (losing it means a new snapshot) */
  readonly offsetsTableDeletionProtection?: boolean;
  /** Secrets the config references with `${secretsmanager:...}`. @default none */
  readonly secretArns?: string[];
  /** Customer-managed KMS keys of those secrets (MSK SCRAM secrets must use one). @default none */
  readonly secretKmsKeyArns?: string[];
  /**
   * The database's resource id (`db-...` for an instance, `cluster-...` for Aurora), for
   * `rds-db:connect` when the config sets `database.iam.auth=true`. @default none (password login)
   */
  readonly dbResourceId?: string;
  /**
   * Names of the parameter groups the function may read with an `rds.*.identifier`: DB cluster
   * parameter groups with `rds.cluster.identifier`, DB parameter groups with
   * `rds.instance.identifier`. @default none: any of that account and region (the function
   * learns the group's name from the RDS API at run time, so the deploy cannot know it)
   */
  readonly rdsParameterGroupNames?: string[];
  /** The MSK cluster ARN, for IAM access (`kafka.sasl.mechanism=AWS_MSK_IAM`) to the connector's topics. @default none */
  readonly mskClusterArn?: string;
  /** SNS topic the alarms notify. @default none (alarms only show in the console) */
  readonly alarmTopicArn?: string;
  /** Replication lag that raises the lag alarm. @default 300 */
  readonly lagAlarmThresholdSeconds?: number;
  /** Minutes without a successful poll that raise the stalled alarm. @default 10 */
  readonly noSuccessfulPollMinutes?: number;
  /** Cargo.toml of the function crate. @default functions/poller in this repository */
  readonly manifestPath?: string;
}

export class BinlogPoller extends Construct {
  public readonly function: lambda.IFunction;
  public readonly offsetsTable: dynamodb.ITable;
  public readonly functionName: string;
  public readonly functionArn: string;
  public readonly roleArn: string;
  public readonly offsetsTableName: string;
  public readonly logGroupName: string;
  public readonly scheduleName: string;
  public readonly dashboardName: string;

  constructor(scope: Construct, id: string, props: BinlogPollerProps) {
    super(scope, id);
    const problems = validateProps(props);
    if (problems.length > 0) {
      throw new Error(`BinlogPoller ${id}: ${problems.join('; ')}`);
    }
    const name = props.connectorName;
    const stack = Stack.of(this);

    const table = new dynamodb.TableV2(this, 'Offsets', {
      tableName: props.offsetsTableName ?? `${name}-offsets`,
      partitionKey: { name: 'connector', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.offsetsTableDeletionProtection ?? DEFAULTS.offsetsTableDeletionProtection,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${name}`,
      retention: retentionDays(props.logRetentionDays ?? DEFAULTS.logRetentionDays),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    suppress(logGroup, [
      ['CKV_AWS_158', 'logs hold no row values or secrets (the function never logs them); CloudWatch encrypts them at rest with its own key'],
    ]);

    const config = {
      ...props.connectorConfig,
      'offset.storage': 'dynamodb',
      'offset.storage.dynamodb.table': table.tableName,
    };
    const timeout = props.timeoutSeconds ?? DEFAULTS.timeoutSeconds;
    const fn = new RustFunction(this, 'Function', {
      functionName: name,
      description: `binlog-poller: MySQL change data capture for connector ${name}`,
      manifestPath: props.manifestPath ?? path.join(__dirname, '..', '..', '..', 'functions', 'poller', 'Cargo.toml'),
      binaryName: 'poller',
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySizeMb ?? DEFAULTS.memorySizeMb,
      timeout: Duration.seconds(timeout),
      reservedConcurrentExecutions: 1,
      retryAttempts: 0,
      maxEventAge: Duration.minutes(2),
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      logGroup,
      environment: {
        BINLOG_POLLER_CONFIG: Stack.of(this).toJsonString({ name, config }),
        BINLOG_POLLER_DEADLINE_MARGIN_MS: String(props.deadlineMarginMs ?? DEFAULTS.deadlineMarginMs),
        RUST_LOG: props.logLevel ?? DEFAULTS.logLevel,
      },
    });
    suppress(fn, [
      ['CKV_AWS_116', 'no dead-letter queue: a failed poll loses nothing (offsets only move after Kafka acknowledged) and the next scheduled tick retries it; failures raise the errors alarm'],
      ['CKV_AWS_173', 'the environment holds the connector config with ${secretsmanager:...} references, not secrets; Lambda encrypts it at rest with its own key'],
    ]);
    // cfn-lint W3005: CDK itself writes a DependsOn on the role next to the GetAtt of its ARN
    // (so the role's policy exists before the function first runs); not ours to drop.
    (fn.node.defaultChild as CfnResource).addMetadata('cfn-lint', { config: { ignore_checks: ['W3005'] } });
    // The role is the function's own; only the grants below are added to it.
    const role = fn.role!;

    // DynamoDB: the store reads its one item and changes it with conditional updates (take
    // and release the lease, checkpoint); no scans, deletes or table administration.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      resources: [table.tableArn],
    }));

    const secretArns = props.secretArns ?? DEFAULTS.secretArns;
    if (secretArns.length > 0) {
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: secretArns,
      }));
    }
    const secretKmsKeyArns = props.secretKmsKeyArns ?? DEFAULTS.secretKmsKeyArns;
    if (secretKmsKeyArns.length > 0) {
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: secretKmsKeyArns,
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` } },
      }));
    }

    if (props.dbResourceId) {
      const user = props.connectorConfig['database.user'];
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['rds-db:connect'],
        resources: [`arn:${stack.partition}:rds-db:${stack.region}:${stack.account}:dbuser:${props.dbResourceId}/${user}`],
      }));
    }

    const clusterId = props.connectorConfig['rds.cluster.identifier'];
    const instanceId = props.connectorConfig['rds.instance.identifier'];
    if (clusterId || instanceId) {
      // Resource types per the Service Authorization Reference for Amazon RDS: DescribeDBClusters
      // acts on `cluster`, DescribeDBInstances on `db`, DescribeDBClusterParameters on
      // `cluster-pg`, DescribeDBParameters on `pg`; a statement for each. The ARNs are in the
      // region the function calls the RDS API in. RDS keeps identifiers and group names in
      // lower case (so do its ARNs) while its API accepts any case: `MyCluster` must match too.
      const rdsRegion = props.connectorConfig['rds.region'] || stack.region;
      const rdsArn = (type: string, name: string) =>
        `arn:${stack.partition}:rds:${rdsRegion}:${stack.account}:${type}:${Token.isUnresolved(name) ? name : name.toLowerCase()}`;
      // The group's name is only known at run time (the cluster or instance reports it), hence
      // every group of the account and region unless rdsParameterGroupNames narrows it.
      const groups = props.rdsParameterGroupNames ?? DEFAULTS.rdsParameterGroupNames;
      const parameterGroups = (type: string) => (groups.length > 0 ? groups : ['*']).map((g) => rdsArn(type, g));
      const rdsGrant = (action: string, resources: string[]) =>
        role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [action], resources }));
      if (clusterId) {
        // Its member list (writer and readers) comes from DescribeDBClusters itself, so no
        // DescribeDBInstances and no grant on any instance.
        rdsGrant('rds:DescribeDBClusters', [rdsArn('cluster', clusterId)]);
        rdsGrant('rds:DescribeDBClusterParameters', parameterGroups('cluster-pg'));
      } else {
        // An instance of its own. A cluster's instance is named by rds.cluster.identifier: the
        // function would describe its cluster too, which the deploy cannot name, and a failover
        // makes that instance a reader, which has no binlog.
        rdsGrant('rds:DescribeDBInstances', [rdsArn('db', instanceId)]);
        rdsGrant('rds:DescribeDBParameters', parameterGroups('pg'));
      }
    }

    if (props.mskClusterArn) {
      const prefix = props.connectorConfig['topic.prefix'];
      const heartbeatPrefix = props.connectorConfig['heartbeat.topics.prefix'] ?? '__debezium-heartbeat';
      // arn:aws:kafka:R:A:cluster/NAME/UUID -> arn:aws:kafka:R:A:topic/NAME/UUID/<topic>
      const [arnHead, clusterPath] = [Fn.select(0, Fn.split(':cluster/', props.mskClusterArn)), Fn.select(1, Fn.split(':cluster/', props.mskClusterArn))];
      const topicArn = (topic: string) => Fn.join('', [arnHead, ':topic/', clusterPath, '/', topic]);
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['kafka-cluster:Connect'],
        resources: [props.mskClusterArn],
      }));
      // <prefix> (schema changes), <prefix>.<db>.<table> (rows), <prefix>.transaction, and
      // the heartbeat topic: nothing else is described, created or written.
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:CreateTopic', 'kafka-cluster:WriteData'],
        resources: [topicArn(prefix), topicArn(`${prefix}.*`), topicArn(`${heartbeatPrefix}.${prefix}`)],
      }));
    }

    const schedule = new scheduler.Schedule(this, 'Schedule', {
      scheduleName: `${name}-poll`,
      description: `binlog-poller ${name}: poll the binlog`,
      schedule: scheduler.ScheduleExpression.expression(props.scheduleExpression ?? DEFAULTS.scheduleExpression),
      enabled: props.scheduleEnabled ?? DEFAULTS.scheduleEnabled,
      target: new targets.LambdaInvoke(fn, {
        input: scheduler.ScheduleTargetInput.fromObject({ action: 'poll' }),
        // The function is invoked asynchronously: Scheduler's job ends when Lambda
        // accepted the event, and the next tick is the retry.
        retryAttempts: 0,
        maxEventAge: Duration.minutes(1),
      }),
    });

    // ---- alarms and dashboard
    const dims = { [METRICS.dimension]: name };
    const metric = (metricName: string, statistic: string, period: Duration) =>
      new cloudwatch.Metric({ namespace: METRICS.namespace, metricName, dimensionsMap: dims, statistic, period });
    const five = Duration.minutes(5);
    const stalledMinutes = props.noSuccessfulPollMinutes ?? DEFAULTS.noSuccessfulPollMinutes;
    // Failed and throttled invocations: the same alarm on two of Lambda's own metrics.
    const lambdaAlarm = (id: string, suffix: string, m: cloudwatch.IMetric, description: string) =>
      new cloudwatch.Alarm(this, id, {
        alarmName: `${name}-${suffix}`,
        alarmDescription: description,
        metric: m,
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const alarms = [
      lambdaAlarm('ErrorsAlarm', 'errors', fn.metricErrors({ period: five, statistic: 'Sum' }),
        'Invocations failed in two of the last three 5-minute periods. A NonRetryable error needs a person: read the summary line\'s error.'),
      lambdaAlarm('ThrottlesAlarm', 'throttles', fn.metricThrottles({ period: five, statistic: 'Sum' }),
        'Invocations throttled: a poll outlasts the schedule period, or manual invocations collide with it (reserved concurrency is 1).'),
      new cloudwatch.Alarm(this, 'LagAlarm', {
        alarmName: `${name}-replication-lag`,
        alarmDescription: 'The newest published change is older than the threshold: the poller falls behind the binlog.',
        metric: metric(METRICS.replicationLag, 'Maximum', five),
        threshold: props.lagAlarmThresholdSeconds ?? DEFAULTS.lagAlarmThresholdSeconds,
        evaluationPeriods: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'StalledAlarm', {
        alarmName: `${name}-no-successful-poll`,
        alarmDescription: `No poll succeeded for ${stalledMinutes} minutes: the schedule is off, or every poll fails.`,
        metric: metric(METRICS.successfulPolls, 'Sum', Duration.minutes(stalledMinutes)),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        // No data means no poll wrote its metrics line: that is the stall itself.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
    ];
    if (props.alarmTopicArn) {
      const topic = sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn);
      for (const alarm of alarms) {
        alarm.addAlarmAction(new cwActions.SnsAction(topic));
        alarm.addOkAction(new cwActions.SnsAction(topic));
      }
    }

    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `binlog-poller-${name}`,
      defaultInterval: Duration.hours(6),
    });
    const minute = Duration.minutes(1);
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Events and batches published', left: [metric(METRICS.eventsPublished, 'Sum', minute)], right: [metric(METRICS.batches, 'Sum', minute)], width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Replication lag (s)', left: [metric(METRICS.replicationLag, 'Maximum', minute)], leftAnnotations: [{ value: props.lagAlarmThresholdSeconds ?? DEFAULTS.lagAlarmThresholdSeconds, label: 'alarm' }], width: 12 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Bytes published', left: [metric(METRICS.bytesPublished, 'Sum', minute)], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Polls', left: [metric(METRICS.successfulPolls, 'Sum', five), metric(METRICS.failedPolls, 'Sum', five)], right: [fn.metricErrors({ period: five }), fn.metricThrottles({ period: five })], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Invocation duration (ms)', left: [metric(METRICS.invocationDuration, 'Maximum', minute), metric(METRICS.invocationDuration, 'Average', minute)], leftAnnotations: [{ value: timeout * 1000, label: 'timeout' }], width: 8 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Snapshot rows read, and left', left: [metric(METRICS.snapshotRows, 'Sum', minute)], right: [metric(METRICS.snapshotRowsRemaining, 'Minimum', minute)], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Longest table lock per poll (ms)', left: [metric(METRICS.lockHoldMax, 'Maximum', minute)], width: 8 }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 8 }),
    );
    dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({ title: 'Invocations (summary lines)', logGroupNames: [logGroup.logGroupName], queryLines: SUMMARY_QUERY.split('\n| '), width: 24 }),
    );

    this.function = fn;
    this.offsetsTable = table;
    this.functionName = fn.functionName;
    this.functionArn = fn.functionArn;
    this.roleArn = role.roleArn;
    this.offsetsTableName = table.tableName;
    this.logGroupName = logGroup.logGroupName;
    this.scheduleName = schedule.scheduleName;
    this.dashboardName = dashboard.dashboardName;
  }
}

/** Every problem with the props at once, as the connector's own config check does. */
export function validateProps(props: BinlogPollerProps): string[] {
  const problems: string[] = [];
  const config = props.connectorConfig ?? {};
  if (!Token.isUnresolved(props.connectorName) && !/^[A-Za-z0-9_-]{1,56}$/.test(props.connectorName)) {
    problems.push('connectorName must be 1-56 letters, digits, "-" or "_" (it names the function, table and alarms)');
  }
  if (!config['topic.prefix']) {
    problems.push('connectorConfig must set topic.prefix');
  }
  const clusterId = config['rds.cluster.identifier'];
  const instanceId = config['rds.instance.identifier'];
  if (!config['database.hostname'] && !clusterId && !instanceId) {
    problems.push('connectorConfig must set database.hostname or rds.cluster.identifier / rds.instance.identifier');
  }
  if (clusterId && instanceId) {
    problems.push('connectorConfig must not set both rds.cluster.identifier and rds.instance.identifier: the database is a cluster or an instance');
  }
  if (config['rds.region'] && !clusterId && !instanceId) {
    problems.push('rds.region is set without rds.cluster.identifier or rds.instance.identifier');
  }
  if ((props.rdsParameterGroupNames ?? DEFAULTS.rdsParameterGroupNames).length > 0 && !clusterId && !instanceId) {
    problems.push('rdsParameterGroupNames is set but connectorConfig sets neither rds.cluster.identifier nor rds.instance.identifier: nothing reads parameter groups');
  }
  for (const key of ['offset.storage', 'offset.storage.dynamodb.table', 'offset.storage.file.filename']) {
    if (key in config) problems.push(`connectorConfig must not set ${key}: the construct sets the offsets table`);
  }
  if (config['database.iam.auth'] === 'true' && !props.dbResourceId) {
    problems.push('database.iam.auth is true: set dbResourceId so the function may call rds-db:connect');
  }
  if (config['kafka.sasl.mechanism'] === 'AWS_MSK_IAM' && !props.mskClusterArn) {
    problems.push('kafka.sasl.mechanism is AWS_MSK_IAM: set mskClusterArn so the function may reach its topics');
  }
  const timeout = props.timeoutSeconds ?? DEFAULTS.timeoutSeconds;
  if (timeout < 10 || timeout > 900) problems.push('timeoutSeconds must be 10-900 (Lambda allows up to 900; a poll needs some seconds)');
  if ((props.deadlineMarginMs ?? DEFAULTS.deadlineMarginMs) >= timeout * 1000) problems.push('deadlineMarginMs must be less than the timeout');
  const memory = props.memorySizeMb ?? DEFAULTS.memorySizeMb;
  if (memory < 128 || memory > 10240) problems.push('memorySizeMb must be 128-10240');
  if ((props.noSuccessfulPollMinutes ?? DEFAULTS.noSuccessfulPollMinutes) < 1) problems.push('noSuccessfulPollMinutes must be at least 1');
  for (const [k, v] of Object.entries(config)) {
    if (/password|secret/i.test(k) && v && !v.startsWith('${')) {
      problems.push(`connectorConfig ${k} holds a literal value: reference a secret (\${secretsmanager:ARN#key}) instead, or it ends up in the template`);
    }
  }
  return problems;
}

function retentionDays(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!allowed.includes(days)) {
    throw new Error(`logRetentionDays ${days} is not one CloudWatch offers: ${allowed.sort((a, b) => a - b).join(', ')}`);
  }
  return days as logs.RetentionDays;
}

/** checkov findings we do not fix, each with its reason, on the resource itself. */
function suppress(construct: Construct, checks: Array<[string, string]>) {
  const resource = (construct.node.defaultChild ?? construct) as CfnResource;
  resource.addMetadata('checkov', { skip: checks.map(([id, comment]) => ({ id, comment })) });
}
