# CloudWatch alarms (DLQ not empty, queue backlog age, function errors,
# failed workflow executions) notifying the SNS topic, and one dashboard.
terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "name_prefix" {
  description = "Prefix for alarm and dashboard names."
  type        = string
}

variable "alarm_topic_arn" {
  description = "SNS topic for alarm notifications."
  type        = string
}

variable "queue_name" {
  description = "Main queue name."
  type        = string
}

variable "dlq_name" {
  description = "DLQ name (empty to skip the DLQ alarm)."
  type        = string
}

variable "function_names" {
  description = "Lambda function names to alarm on, keyed by role."
  type        = map(string)
}

variable "state_machine_arns" {
  description = "State machine ARNs to alarm on, keyed by workflow."
  type        = map(string)
}

variable "max_queue_age_seconds" {
  description = "Alarm when the oldest message is older than this."
  type        = number
  default     = 900
}

data "aws_region" "current" {}

resource "aws_cloudwatch_metric_alarm" "dlq" {
  count               = var.dlq_name == "" ? 0 : 1
  alarm_name          = "${var.name_prefix}-dlq-not-empty"
  alarm_description   = "Messages reached the dead-letter queue: inspect, fix, then elt queue redrive."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = var.dlq_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "queue_age" {
  alarm_name          = "${var.name_prefix}-queue-backlog-age"
  alarm_description   = "The transform is falling behind."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = var.queue_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  threshold           = var.max_queue_age_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each            = var.function_names
  alarm_name          = "${var.name_prefix}-${each.key}-errors"
  alarm_description   = "Function ${each.value} reported errors."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "executions_failed" {
  for_each            = var.state_machine_arns
  alarm_name          = "${var.name_prefix}-${each.key}-executions-failed"
  alarm_description   = "Workflow ${each.key} had failed, timed-out or aborted executions."
  namespace           = "AWS/States"
  metric_name         = "ExecutionsFailed"
  dimensions          = { StateMachineArn = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.name_prefix}-pipeline"
  dashboard_body = jsonencode({
    widgets = concat(
      [
        {
          type   = "metric"
          width  = 12
          height = 6
          properties = {
            title   = "Queue depth and age"
            region  = data.aws_region.current.name
            metrics = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.queue_name], ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", var.queue_name, { yAxis = "right" }]]
            stat    = "Maximum"
            period  = 60
          }
        },
      ],
      [
        for role, fn in var.function_names : {
          type   = "metric"
          width  = 12
          height = 6
          properties = {
            title   = "Lambda ${role}"
            region  = data.aws_region.current.name
            metrics = [["AWS/Lambda", "Invocations", "FunctionName", fn], ["AWS/Lambda", "Errors", "FunctionName", fn], ["AWS/Lambda", "Duration", "FunctionName", fn, { stat = "p95", yAxis = "right" }]]
            stat    = "Sum"
            period  = 300
          }
        }
      ],
    )
  })
}

output "dashboard_name" {
  description = "Dashboard name."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
