# Inputs of the binlog-poller module. They match the CDK construct's props one for one
# (snake_case here, camelCase there), defaults included; infra/tests/test_infra.py
# fails when the two drift apart.

variable "connector_name" {
  description = "Connector name (Debezium's `name`): the offsets key, the metric dimension and the resource name prefix."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.connector_name))
    error_message = "connector_name must be 1-56 letters, digits, \"-\" or \"_\" (it names the function, table and alarms)."
  }
}

variable "connector_config" {
  description = "The connector's `config` map, as in a Debezium registration JSON. Must set topic.prefix, and database.hostname or one of rds.cluster.identifier / rds.instance.identifier (the function then looks the writer endpoint up with the RDS API, in rds.region if set, and the module grants those read-only calls on that cluster or instance). Secrets go in as $${secretsmanager:ARN#key} references, never as values. The module adds offset.storage=dynamodb and the table name."
  type        = map(string)
  validation {
    condition     = contains(keys(var.connector_config), "topic.prefix")
    error_message = "connector_config must set topic.prefix."
  }
  validation {
    condition     = anytrue([for k in ["database.hostname", "rds.cluster.identifier", "rds.instance.identifier"] : lookup(var.connector_config, k, "") != ""])
    error_message = "connector_config must set database.hostname or rds.cluster.identifier / rds.instance.identifier."
  }
  validation {
    condition     = lookup(var.connector_config, "rds.cluster.identifier", "") == "" || lookup(var.connector_config, "rds.instance.identifier", "") == ""
    error_message = "connector_config must not set both rds.cluster.identifier and rds.instance.identifier: the database is a cluster or an instance."
  }
  validation {
    condition     = lookup(var.connector_config, "rds.region", "") == "" || lookup(var.connector_config, "rds.cluster.identifier", "") != "" || lookup(var.connector_config, "rds.instance.identifier", "") != ""
    error_message = "rds.region is set without rds.cluster.identifier or rds.instance.identifier."
  }
  validation {
    condition     = length(setintersection(keys(var.connector_config), ["offset.storage", "offset.storage.dynamodb.table", "offset.storage.file.filename"])) == 0
    error_message = "connector_config must not set offset.storage, offset.storage.dynamodb.table or offset.storage.file.filename: the module sets the offsets table."
  }
  validation {
    condition = alltrue([
      for k, v in var.connector_config : !can(regex("(?i)password|secret", k)) || v == "" || startswith(v, "$")
    ])
    error_message = "connector_config holds a literal password or secret: reference a secret ($${secretsmanager:ARN#key}) instead, or it ends up in the state and the function's environment."
  }
}

variable "subnet_ids" {
  description = "Subnets the function runs in: private ones that reach MySQL, Kafka and, through endpoints or NAT, DynamoDB, Secrets Manager, CloudWatch and (with an rds.*.identifier) the RDS API."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the function; MySQL's and the brokers' groups must admit them."
  type        = list(string)
}

variable "schedule_expression" {
  description = "How often to poll, as an EventBridge Scheduler expression (seconds of latency for a few cents a month at the default)."
  type        = string
  default     = "rate(1 minute)"
}

variable "schedule_enabled" {
  description = "Whether the schedule runs (false pauses capture; manual invocations still work)."
  type        = bool
  default     = true
}

variable "timeout_seconds" {
  description = "Function timeout; the default is one schedule period, so a poll ends before the next tick."
  type        = number
  default     = 60
  validation {
    condition     = var.timeout_seconds >= 10 && var.timeout_seconds <= 900
    error_message = "timeout_seconds must be 10-900 (Lambda allows up to 900; a poll needs some seconds)."
  }
}

variable "memory_size_mb" {
  description = "Function memory; Lambda's CPU share grows with it (peak RSS draining a backlog stays far below the default; see docs/benchmarks.md)."
  type        = number
  default     = 512
  validation {
    condition     = var.memory_size_mb >= 128 && var.memory_size_mb <= 10240
    error_message = "memory_size_mb must be 128-10240."
  }
}

variable "deadline_margin_ms" {
  description = "Time kept free before the deadline to release the lease and return."
  type        = number
  default     = 5000
}

variable "log_level" {
  description = "RUST_LOG filter (the default writes one summary line per invocation)."
  type        = string
  default     = "info,rskafka=warn"
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the logs."
  type        = number
  default     = 30
}

variable "offsets_table_name" {
  description = "Name of the offsets table (null: <connector_name>-offsets)."
  type        = string
  default     = null
}

variable "offsets_table_deletion_protection" {
  description = "Deletion protection on the offsets table (losing it means a new snapshot)."
  type        = bool
  default     = true
}

variable "secret_arns" {
  description = "Secrets the config references with $${secretsmanager:...}."
  type        = list(string)
  default     = []
}

variable "secret_kms_key_arns" {
  description = "Customer-managed KMS keys of those secrets (MSK SCRAM secrets must use one)."
  type        = list(string)
  default     = []
}

variable "db_resource_id" {
  description = "The database's resource id (db-... for an instance, cluster-... for Aurora), for rds-db:connect when the config sets database.iam.auth=true (null: password login)."
  type        = string
  default     = null
}

variable "rds_parameter_group_names" {
  description = "Names of the parameter groups the function may read with an rds.*.identifier: DB cluster parameter groups with rds.cluster.identifier, DB parameter groups with rds.instance.identifier ([]: any of that account and region; the function learns the group's name from the RDS API at run time, so the deploy cannot know it)."
  type        = list(string)
  default     = []
}

variable "msk_cluster_arn" {
  description = "The MSK cluster ARN, for IAM access (kafka.sasl.mechanism=AWS_MSK_IAM) to the connector's topics (null: no MSK IAM)."
  type        = string
  default     = null
}

variable "alarm_topic_arn" {
  description = "SNS topic the alarms notify (null: alarms only show in the console)."
  type        = string
  default     = null
}

variable "lag_alarm_threshold_seconds" {
  description = "Replication lag that raises the lag alarm."
  type        = number
  default     = 300
}

variable "no_successful_poll_minutes" {
  description = "Minutes without a successful poll that raise the stalled alarm."
  type        = number
  default     = 10
  validation {
    condition     = var.no_successful_poll_minutes >= 1
    error_message = "no_successful_poll_minutes must be at least 1."
  }
}

variable "lambda_zip_path" {
  description = "The function package: target/lambda/poller/bootstrap.zip from `cargo lambda build --release --arm64 --output-format zip -p poller`."
  type        = string
}
