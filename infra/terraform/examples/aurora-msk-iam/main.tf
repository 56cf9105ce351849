# Example root module: one connector reading an Aurora MySQL cluster with RDS IAM auth and
# publishing to MSK with IAM auth, so no password exists anywhere. The config names the cluster
# rather than its endpoint: the function looks the writer endpoint up with the RDS API at each
# cold start. Build the package first:
#   cargo lambda build --release --arm64 --output-format zip -p poller
# then: terraform init && terraform apply -var vpc_subnet_ids='["subnet-..."]' ...

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  description = "Region of the database and the cluster."
  type        = string
  default     = "eu-west-1"
}

variable "subnet_ids" {
  description = "Private subnets that reach the database and the brokers."
  type        = list(string)
}

variable "security_group_id" {
  description = "Security group for the function, admitted by the database's and the brokers' groups."
  type        = string
}

variable "db_cluster_identifier" {
  description = "Aurora cluster identifier (the name, not the endpoint)."
  type        = string
}

variable "db_resource_id" {
  description = "Aurora cluster resource id (cluster-...)."
  type        = string
}

variable "msk_cluster_arn" {
  description = "MSK cluster ARN."
  type        = string
}

variable "bootstrap_servers" {
  description = "MSK bootstrap brokers for IAM (port 9098)."
  type        = string
}

variable "alarm_topic_arn" {
  description = "SNS topic for alarms."
  type        = string
  default     = null
}

module "inventory" {
  source = "../.."

  connector_name = "inventory-connector"
  connector_config = {
    "connector.class"         = "io.debezium.connector.mysql.MySqlConnector"
    "rds.cluster.identifier"  = var.db_cluster_identifier
    "database.user"           = "cdc"
    "database.iam.auth"       = "true"
    "database.ssl.mode"       = "verify_identity"
    "database.server.id"      = "184054"
    "topic.prefix"            = "dbserver1"
    "database.include.list"   = "inventory"
    "snapshot.mode"           = "initial"
    "kafka.bootstrap.servers" = var.bootstrap_servers
    "kafka.security.protocol" = "SASL_SSL"
    "kafka.sasl.mechanism"    = "AWS_MSK_IAM"
  }
  subnet_ids         = var.subnet_ids
  security_group_ids = [var.security_group_id]
  db_resource_id     = var.db_resource_id
  msk_cluster_arn    = var.msk_cluster_arn
  alarm_topic_arn    = var.alarm_topic_arn
  lambda_zip_path    = "${path.module}/../../../../target/lambda/poller/bootstrap.zip"
}

output "function_name" {
  description = "Invoke it by hand with aws lambda invoke."
  value       = module.inventory.function_name
}

output "dashboard_name" {
  description = "The connector's CloudWatch dashboard."
  value       = module.inventory.dashboard_name
}
