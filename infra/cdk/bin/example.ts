#!/usr/bin/env node
// Example stack: one connector reading an Aurora MySQL cluster with RDS IAM auth and
// publishing to MSK with IAM auth, so no password exists anywhere. The config names the
// cluster rather than its endpoint: the function looks the writer endpoint up with the RDS
// API at each cold start, and the construct grants it those calls on this cluster. The
// network and cluster identifiers come from context (`-c vpcId=... -c subnetIds=a,b ...`);
// the placeholders let `npm run synth` run without an AWS account.
import { Annotations, App, Stack, CfnOutput } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { BinlogPoller } from '../lib/binlog-poller';

// `npm run synth` sets BP_SKIP_BUNDLING=1: it synthesizes the template without building the
// Rust function (CDK's own switch, the `aws:cdk:bundling-stacks` context, cannot be given on
// the command line). `cdk deploy` bundles as usual, with cargo-lambda.
const app = new App({
  postCliContext: process.env.BP_SKIP_BUNDLING === '1' ? { 'aws:cdk:bundling-stacks': [] } : undefined,
});
const ctx = (key: string, placeholder: string): string => app.node.tryGetContext(key) ?? placeholder;

const stack = new Stack(app, 'BinlogPollerExample', {
  env: { account: ctx('account', '111111111111'), region: ctx('region', 'eu-west-1') },
  description: 'binlog-poller example: Aurora MySQL to MSK change data capture on a 1-minute schedule',
});

const subnetIds = ctx('subnetIds', 'subnet-0aaaaaaaaaaaaaaa1,subnet-0aaaaaaaaaaaaaaa2').split(',');
const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
  vpcId: ctx('vpcId', 'vpc-0aaaaaaaaaaaaaaa0'),
  availabilityZones: subnetIds.map((_, i) => `${stack.region}${'abc'[i % 3]}`),
  privateSubnetIds: subnetIds,
});
Annotations.of(stack).acknowledgeWarning('@aws-cdk/aws-ec2:noSubnetRouteTableId',
  'the function only runs in these subnets; nothing reads their route tables');
const securityGroup = ec2.SecurityGroup.fromSecurityGroupId(stack, 'PollerSg', ctx('securityGroupId', 'sg-0aaaaaaaaaaaaaaa0'));
const mskClusterArn = ctx('mskClusterArn', `arn:aws:kafka:${stack.region}:${stack.account}:cluster/cdc/11111111-2222-3333-4444-555555555555-2`);

const poller = new BinlogPoller(stack, 'Inventory', {
  connectorName: 'inventory-connector',
  connectorConfig: {
    'connector.class': 'io.debezium.connector.mysql.MySqlConnector',
    'rds.cluster.identifier': ctx('dbClusterIdentifier', 'inventory'),
    'database.user': 'cdc',
    'database.iam.auth': 'true',
    'database.ssl.mode': 'verify_identity',
    'database.server.id': '184054',
    'topic.prefix': 'dbserver1',
    'database.include.list': 'inventory',
    'snapshot.mode': 'initial',
    'kafka.bootstrap.servers': ctx('bootstrapServers', `b-1.cdc.abc123.c2.kafka.${stack.region}.amazonaws.com:9098`),
    'kafka.security.protocol': 'SASL_SSL',
    'kafka.sasl.mechanism': 'AWS_MSK_IAM',
  },
  vpc,
  vpcSubnets: { subnets: vpc.privateSubnets },
  securityGroups: [securityGroup],
  dbResourceId: ctx('dbResourceId', 'cluster-ABCDEFGHIJKLMNOPQRSTUVWXY0'),
  mskClusterArn,
});

new CfnOutput(stack, 'FunctionName', { value: poller.functionName });
new CfnOutput(stack, 'OffsetsTableName', { value: poller.offsetsTableName });
new CfnOutput(stack, 'DashboardName', { value: poller.dashboardName });
