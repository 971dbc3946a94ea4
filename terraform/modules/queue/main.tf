# The work queue between ingest and transform, with its dead-letter queue.
# When existing_queue_url/arn are given (accounts that forbid SQS tag APIs),
# nothing is created and the existing queue is passed through.
terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "name" {
  description = "Queue name; the DLQ is <name>-dlq."
  type        = string
}

variable "visibility_timeout_seconds" {
  description = "Visibility timeout; AWS advises at least 6x the consumer function's timeout."
  type        = number
}

variable "max_receive_count" {
  description = "Receives before a message moves to the DLQ."
  type        = number
  default     = 5
}

variable "message_retention_seconds" {
  description = "How long messages are kept in the main queue."
  type        = number
  default     = 345600
}

variable "existing_queue_url" {
  description = "Use this queue instead of creating one."
  type        = string
  default     = ""
}

variable "existing_queue_arn" {
  description = "ARN of existing_queue_url."
  type        = string
  default     = ""
}

variable "existing_dlq_arn" {
  description = "ARN of the existing queue's DLQ, if any (for alarms)."
  type        = string
  default     = ""
}

locals {
  create = var.existing_queue_url == ""
  # arn:<partition>:sqs:<region>:<account>:<name> -> the queue URL SQS uses
  # for it (https://sqs.<region>.amazonaws.com/<account>/<name>).
  dlq_arn_parts    = split(":", var.existing_dlq_arn)
  existing_dlq_url = var.existing_dlq_arn == "" ? "" : "https://sqs.${element(local.dlq_arn_parts, 3)}.amazonaws.com/${element(local.dlq_arn_parts, 4)}/${element(local.dlq_arn_parts, 5)}"
}

resource "aws_sqs_queue" "dlq" {
  count                     = local.create ? 1 : 0
  name                      = "${var.name}-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "main" {
  count                      = local.create ? 1 : 0
  name                       = var.name
  visibility_timeout_seconds = var.visibility_timeout_seconds
  message_retention_seconds  = var.message_retention_seconds
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[0].arn
    maxReceiveCount     = var.max_receive_count
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  count     = local.create ? 1 : 0
  queue_url = aws_sqs_queue.dlq[0].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.main[0].arn]
  })
}

# Refuse plain-HTTP access to the queue (encryption in transit).
data "aws_iam_policy_document" "tls_only" {
  count = local.create ? 1 : 0
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.main[0].arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "main" {
  count     = local.create ? 1 : 0
  queue_url = aws_sqs_queue.main[0].id
  policy    = data.aws_iam_policy_document.tls_only[0].json
}

output "url" {
  description = "Main queue URL."
  value       = local.create ? aws_sqs_queue.main[0].id : var.existing_queue_url
}

output "arn" {
  description = "Main queue ARN."
  value       = local.create ? aws_sqs_queue.main[0].arn : var.existing_queue_arn
}

output "name" {
  description = "Main queue name."
  value       = local.create ? aws_sqs_queue.main[0].name : element(split(":", var.existing_queue_arn), 5)
}

output "dlq_arn" {
  description = "DLQ ARN (empty when unknown)."
  value       = local.create ? aws_sqs_queue.dlq[0].arn : var.existing_dlq_arn
}

output "dlq_url" {
  description = "DLQ URL (empty when unknown); for an existing queue it is derived from existing_dlq_arn."
  value       = local.create ? aws_sqs_queue.dlq[0].url : local.existing_dlq_url
}

output "dlq_name" {
  description = "DLQ name (empty when unknown)."
  value       = local.create ? aws_sqs_queue.dlq[0].name : (var.existing_dlq_arn == "" ? "" : element(split(":", var.existing_dlq_arn), 5))
}
