# binlog-poller: one connector as one scheduled Lambda function. The same resources as the
# CDK construct (infra/cdk/lib/binlog-poller.ts, where each choice is explained): the
# function (arm64, in the database's VPC, reserved concurrency 1, no async retries), an
# EventBridge Scheduler schedule invoking {"action": "poll"}, the DynamoDB offsets table
# (on-demand, point-in-time recovery, deletion protection, no TTL), the log group, alarms
# and a dashboard (monitoring.tf), and a least-privilege role (with read-only RDS Describe*
# calls on the one cluster or instance when the config names it by rds.*.identifier).

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  name        = var.connector_name
  table_name  = coalesce(var.offsets_table_name, "${var.connector_name}-offsets")
  topic       = var.connector_config["topic.prefix"]
  heartbeat   = lookup(var.connector_config, "heartbeat.topics.prefix", "__debezium-heartbeat")
  iam_auth    = lookup(var.connector_config, "database.iam.auth", "false") == "true"
  msk_iam     = lookup(var.connector_config, "kafka.sasl.mechanism", "") == "AWS_MSK_IAM"
  partition   = data.aws_partition.current.partition
  region      = data.aws_region.current.region
  account     = data.aws_caller_identity.current.account_id
  config_json = jsonencode({ name = var.connector_name, config = merge(var.connector_config, { "offset.storage" = "dynamodb", "offset.storage.dynamodb.table" = aws_dynamodb_table.offsets.name }) })
  # arn:aws:kafka:R:A:cluster/NAME/UUID -> arn:aws:kafka:R:A:topic/NAME/UUID/<topic>
  msk_topic_base = var.msk_cluster_arn == null ? "" : replace(var.msk_cluster_arn, ":cluster/", ":topic/")
  # RDS keeps identifiers and group names in lower case (so do its ARNs) while its API accepts
  # any case: "MyCluster" must match too. The ARNs are in the region the function calls the
  # RDS API in.
  rds_cluster  = lower(lookup(var.connector_config, "rds.cluster.identifier", ""))
  rds_instance = lower(lookup(var.connector_config, "rds.instance.identifier", ""))
  rds_arn      = "arn:${local.partition}:rds:${coalesce(lookup(var.connector_config, "rds.region", ""), local.region)}:${local.account}"
  # The group's name is only known at run time (the cluster or instance reports it), hence
  # every group of the account and region unless rds_parameter_group_names narrows it.
  rds_parameter_groups = length(var.rds_parameter_group_names) > 0 ? [for g in var.rds_parameter_group_names : lower(g)] : ["*"]
}

# ---------------------------------------------------------------- offsets
resource "aws_dynamodb_table" "offsets" {
  #checkov:skip=CKV_AWS_119:one small item per connector holding binlog positions, no row data; the AWS-owned key encrypts it at rest
  name                        = local.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "connector"
  deletion_protection_enabled = var.offsets_table_deletion_protection

  attribute {
    name = "connector"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

# ---------------------------------------------------------------- logs
resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:logs hold no row values or secrets (the function never logs them); CloudWatch encrypts at rest with its own key
  #checkov:skip=CKV_AWS_338:retention is the deployer's choice (log_retention_days); a year of per-minute summaries is rarely wanted
  name              = "/aws/lambda/${local.name}"
  retention_in_days = var.log_retention_days
}

# ---------------------------------------------------------------- role
data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  name               = "${local.name}-poller"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
}

# Logs and the VPC network interfaces, as CDK grants every VPC function.
resource "aws_iam_role_policy_attachment" "vpc_access" {
  role       = aws_iam_role.function.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

data "aws_iam_policy_document" "function" {
  # The store reads its one item and changes it with conditional updates (take and release
  # the lease, checkpoint); no scans, deletes or table administration.
  statement {
    actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.offsets.arn]
  }

  dynamic "statement" {
    for_each = length(var.secret_arns) > 0 ? [1] : []
    content {
      actions   = ["secretsmanager:GetSecretValue"]
      resources = var.secret_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.secret_kms_key_arns) > 0 ? [1] : []
    content {
      actions   = ["kms:Decrypt"]
      resources = var.secret_kms_key_arns
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.db_resource_id == null ? [] : [1]
    content {
      actions   = ["rds-db:connect"]
      resources = ["arn:${local.partition}:rds-db:${local.region}:${local.account}:dbuser:${var.db_resource_id}/${lookup(var.connector_config, "database.user", "")}"]
    }
  }

  dynamic "statement" {
    for_each = var.msk_cluster_arn == null ? [] : [1]
    content {
      actions   = ["kafka-cluster:Connect"]
      resources = [var.msk_cluster_arn]
    }
  }

  # RDS: resource types per the Service Authorization Reference for Amazon RDS
  # (DescribeDBClusters acts on cluster, DescribeDBInstances on db, DescribeDBClusterParameters
  # on cluster-pg, DescribeDBParameters on pg); a statement for each. A variable validation
  # keeps the two identifiers from being set together.
  #
  # A cluster: its member list (writer and readers) comes from DescribeDBClusters itself, so
  # no DescribeDBInstances and no grant on any instance.
  dynamic "statement" {
    for_each = local.rds_cluster == "" ? [] : [1]
    content {
      actions   = ["rds:DescribeDBClusters"]
      resources = ["${local.rds_arn}:cluster:${local.rds_cluster}"]
    }
  }

  dynamic "statement" {
    for_each = local.rds_cluster == "" ? [] : [1]
    content {
      actions   = ["rds:DescribeDBClusterParameters"]
      resources = [for g in local.rds_parameter_groups : "${local.rds_arn}:cluster-pg:${g}"]
    }
  }

  # An instance of its own. A cluster's instance is named by rds.cluster.identifier: the
  # function would describe its cluster too, which the deploy cannot name, and a failover
  # makes that instance a reader, which has no binlog.
  dynamic "statement" {
    for_each = local.rds_instance == "" ? [] : [1]
    content {
      actions   = ["rds:DescribeDBInstances"]
      resources = ["${local.rds_arn}:db:${local.rds_instance}"]
    }
  }

  dynamic "statement" {
    for_each = local.rds_instance == "" ? [] : [1]
    content {
      actions   = ["rds:DescribeDBParameters"]
      resources = [for g in local.rds_parameter_groups : "${local.rds_arn}:pg:${g}"]
    }
  }

  # <prefix> (schema changes), <prefix>.<db>.<table> (rows), <prefix>.transaction and the
  # heartbeat topic: nothing else is described, created or written.
  dynamic "statement" {
    for_each = var.msk_cluster_arn == null ? [] : [1]
    content {
      actions = ["kafka-cluster:DescribeTopic", "kafka-cluster:CreateTopic", "kafka-cluster:WriteData"]
      resources = [
        "${local.msk_topic_base}/${local.topic}",
        "${local.msk_topic_base}/${local.topic}.*",
        "${local.msk_topic_base}/${local.heartbeat}.${local.topic}",
      ]
    }
  }
}

resource "aws_iam_role_policy" "function" {
  name   = "binlog-poller"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}

# ---------------------------------------------------------------- function
resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:no dead-letter queue: a failed poll loses nothing (offsets only move after Kafka acknowledged) and the next scheduled tick retries it; failures raise the errors alarm
  #checkov:skip=CKV_AWS_173:the environment holds the connector config with secretsmanager references, not secrets; Lambda encrypts it at rest with its own key
  #checkov:skip=CKV_AWS_272:code signing needs a signing profile the deployer owns; the package is built from this repository by cargo-lambda
  #checkov:skip=CKV_AWS_50:the function's spans are not exported to X-Ray; the summary line and EMF metrics carry each invocation's timing
  function_name                  = local.name
  description                    = "binlog-poller: MySQL change data capture for connector ${local.name}"
  role                           = aws_iam_role.function.arn
  filename                       = var.lambda_zip_path
  source_code_hash               = filebase64sha256(var.lambda_zip_path)
  handler                        = "bootstrap"
  runtime                        = "provided.al2023"
  architectures                  = ["arm64"]
  memory_size                    = var.memory_size_mb
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = 1

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }

  environment {
    variables = {
      BINLOG_POLLER_CONFIG             = local.config_json
      BINLOG_POLLER_DEADLINE_MARGIN_MS = tostring(var.deadline_margin_ms)
      RUST_LOG                         = var.log_level
    }
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  depends_on = [aws_iam_role_policy_attachment.vpc_access, aws_iam_role_policy.function]

  lifecycle {
    precondition {
      condition     = !local.iam_auth || var.db_resource_id != null
      error_message = "database.iam.auth is true: set db_resource_id so the function may call rds-db:connect."
    }
    precondition {
      condition     = !local.msk_iam || var.msk_cluster_arn != null
      error_message = "kafka.sasl.mechanism is AWS_MSK_IAM: set msk_cluster_arn so the function may reach its topics."
    }
    precondition {
      condition     = length(var.rds_parameter_group_names) == 0 || local.rds_cluster != "" || local.rds_instance != ""
      error_message = "rds_parameter_group_names is set but connector_config sets neither rds.cluster.identifier nor rds.instance.identifier: nothing reads parameter groups."
    }
    precondition {
      condition     = var.deadline_margin_ms < var.timeout_seconds * 1000
      error_message = "deadline_margin_ms must be less than the timeout."
    }
  }
}

# The next scheduled tick is the retry; stale ticks queued behind a slow poll help nobody.
resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 120
}

# ---------------------------------------------------------------- schedule
data "aws_iam_policy_document" "assume_scheduler" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    # Only schedules of this account's default group may use the role (confused deputy).
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:scheduler:${local.region}:${local.account}:schedule-group/default"]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${local.name}-poller-schedule"
  assume_role_policy = data.aws_iam_policy_document.assume_scheduler.json
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.this.arn, "${aws_lambda_function.this.arn}:*"]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "invoke-poller"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "poll" {
  #checkov:skip=CKV_AWS_297:the schedule's only data is the input {"action": "poll"}; a customer-managed key would guard nothing
  name                = "${local.name}-poll"
  description         = "binlog-poller ${local.name}: poll the binlog"
  schedule_expression = var.schedule_expression
  state               = var.schedule_enabled ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.this.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ action = "poll" })
    # Lambda is invoked asynchronously: Scheduler's job ends when Lambda accepted the event.
    retry_policy {
      maximum_retry_attempts       = 0
      maximum_event_age_in_seconds = 60
    }
  }
}
