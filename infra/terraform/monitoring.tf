# Alarms and the dashboard, on the function's Lambda metrics and on the CloudWatch Embedded
# Metric Format lines it writes (namespace BinlogPoller, dimension Connector; the names are
# constants in src/platform/telemetry.rs). Thresholds and periods match the CDK construct.

locals {
  metrics_namespace = "BinlogPoller"
  connector_dims    = { Connector = var.connector_name }
  alarm_actions     = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  summary_query     = "fields @timestamp, connector, action, outcome, events, lag_seconds, snapshot_table, snapshot_rows_remaining, snapshot_eta_seconds, took_ms, error\n| filter message = \"invocation finished\"\n| sort @timestamp desc"
}

# Failed and throttled invocations: the same alarm on two of Lambda's own metrics.
resource "aws_cloudwatch_metric_alarm" "lambda" {
  for_each = {
    errors    = { metric = "Errors", description = "Invocations failed in two of the last three 5-minute periods. A NonRetryable error needs a person: read the summary line's error." }
    throttles = { metric = "Throttles", description = "Invocations throttled: a poll outlasts the schedule period, or manual invocations collide with it (reserved concurrency is 1)." }
  }
  alarm_name          = "${local.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = "AWS/Lambda"
  metric_name         = each.value.metric
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "lag" {
  alarm_name          = "${local.name}-replication-lag"
  alarm_description   = "The newest published change is older than the threshold: the poller falls behind the binlog."
  namespace           = local.metrics_namespace
  metric_name         = "ReplicationLagSeconds"
  dimensions          = local.connector_dims
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  threshold           = var.lag_alarm_threshold_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "stalled" {
  alarm_name          = "${local.name}-no-successful-poll"
  alarm_description   = "No poll succeeded for ${var.no_successful_poll_minutes} minutes: the schedule is off, or every poll fails."
  namespace           = local.metrics_namespace
  metric_name         = "SuccessfulPolls"
  dimensions          = local.connector_dims
  statistic           = "Sum"
  period              = var.no_successful_poll_minutes * 60
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  # No data means no poll wrote its metrics line: that is the stall itself.
  treat_missing_data = "breaching"
  alarm_actions      = local.alarm_actions
  ok_actions         = local.alarm_actions
}

locals {
  emf = { for k in ["EventsPublished", "BytesPublished", "Batches", "ReplicationLagSeconds", "InvocationDurationMs", "SnapshotRows", "SnapshotRowsRemaining", "LockHoldMaxMs", "SuccessfulPolls", "FailedPolls"] :
  k => [local.metrics_namespace, k, "Connector", var.connector_name] }
  lambda_metric = { for k in ["Errors", "Throttles"] : k => ["AWS/Lambda", k, "FunctionName", aws_lambda_function.this.function_name] }
  graph = { region = local.region, view = "timeSeries", stacked = false, period = 60 }
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "binlog-poller-${local.name}"
  dashboard_body = jsonencode({
    start = "-PT6H"
    widgets = [
      { type = "metric", x = 0, y = 0, width = 12, height = 6, properties = merge(local.graph, { title = "Events and batches published", metrics = [concat(local.emf.EventsPublished, [{ stat = "Sum" }]), concat(local.emf.Batches, [{ stat = "Sum", yAxis = "right" }])] }) },
      { type = "metric", x = 12, y = 0, width = 12, height = 6, properties = merge(local.graph, { title = "Replication lag (s)", metrics = [concat(local.emf.ReplicationLagSeconds, [{ stat = "Maximum" }])], annotations = { horizontal = [{ value = var.lag_alarm_threshold_seconds, label = "alarm" }] } }) },
      { type = "metric", x = 0, y = 6, width = 8, height = 6, properties = merge(local.graph, { title = "Bytes published", metrics = [concat(local.emf.BytesPublished, [{ stat = "Sum" }])] }) },
      { type = "metric", x = 8, y = 6, width = 8, height = 6, properties = merge(local.graph, { title = "Polls", period = 300, metrics = [concat(local.emf.SuccessfulPolls, [{ stat = "Sum" }]), concat(local.emf.FailedPolls, [{ stat = "Sum" }]), concat(local.lambda_metric.Errors, [{ stat = "Sum", yAxis = "right" }]), concat(local.lambda_metric.Throttles, [{ stat = "Sum", yAxis = "right" }])] }) },
      { type = "metric", x = 16, y = 6, width = 8, height = 6, properties = merge(local.graph, { title = "Invocation duration (ms)", metrics = [concat(local.emf.InvocationDurationMs, [{ stat = "Maximum" }]), concat(local.emf.InvocationDurationMs, [{ stat = "Average" }])], annotations = { horizontal = [{ value = var.timeout_seconds * 1000, label = "timeout" }] } }) },
      { type = "metric", x = 0, y = 12, width = 8, height = 6, properties = merge(local.graph, { title = "Snapshot rows read, and left", metrics = [concat(local.emf.SnapshotRows, [{ stat = "Sum" }]), concat(local.emf.SnapshotRowsRemaining, [{ stat = "Minimum", yAxis = "right" }])] }) },
      { type = "metric", x = 8, y = 12, width = 8, height = 6, properties = merge(local.graph, { title = "Longest table lock per poll (ms)", metrics = [concat(local.emf.LockHoldMaxMs, [{ stat = "Maximum" }])] }) },
      { type = "alarm", x = 16, y = 12, width = 8, height = 6, properties = { title = "Alarms", alarms = concat([for a in aws_cloudwatch_metric_alarm.lambda : a.arn], [aws_cloudwatch_metric_alarm.lag.arn, aws_cloudwatch_metric_alarm.stalled.arn]) } },
      { type = "log", x = 0, y = 18, width = 24, height = 6, properties = { title = "Invocations (summary lines)", region = local.region, view = "table", query = "SOURCE '${aws_cloudwatch_log_group.this.name}' | ${local.summary_query}" } },
    ]
  })
}
