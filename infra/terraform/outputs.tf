# Outputs match the CDK construct's public attributes (infra/tests/test_infra.py).

output "function_name" {
  description = "The Lambda function (invoke it with {\"action\": \"poll\" | \"snapshot\" | \"status\" | \"validate\"})."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "The function's role; the database user and the brokers' ACLs trust this identity."
  value       = aws_iam_role.function.arn
}

output "offsets_table_name" {
  description = "The DynamoDB table holding the connector's checkpoint."
  value       = aws_dynamodb_table.offsets.name
}

output "log_group_name" {
  description = "Where the function's JSON logs and EMF metric lines go."
  value       = aws_cloudwatch_log_group.this.name
}

output "schedule_name" {
  description = "The EventBridge Scheduler schedule that polls."
  value       = aws_scheduler_schedule.poll.name
}

output "dashboard_name" {
  description = "The CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
