# The SNS topic that workflow failures and quality-gate failures publish to,
# encrypted with the AWS managed SNS key and refusing plain-HTTP publishers.
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
  description = "Topic name."
  type        = string
}

variable "kms_key_id" {
  description = "KMS key id or alias for the topic."
  type        = string
  default     = "alias/aws/sns"
}

variable "email_subscriptions" {
  description = "Email addresses to subscribe (each must confirm)."
  type        = list(string)
  default     = []
}

resource "aws_sns_topic" "this" {
  name              = var.name
  kms_master_key_id = var.kms_key_id
}

data "aws_iam_policy_document" "tls_only" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]
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

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.tls_only.json
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.email_subscriptions)
  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = each.value
}

output "arn" {
  description = "Topic ARN."
  value       = aws_sns_topic.this.arn
}
