# The SNS topic that workflow failures, quality-gate failures and CloudWatch
# alarms publish to, encrypted at rest and refusing plain-HTTP publishers.
#
# Encryption: the AWS managed key (alias/aws/sns) serves publishers that are
# IAM principals of this account (the workflows' roles). CloudWatch alarms
# publish as the cloudwatch.amazonaws.com service, which the managed key's
# policy cannot be changed to admit, so AWS documents that alarms need a
# customer managed key on an encrypted topic. With alarm_publishers set (the
# observability toggle), the module creates such a key (about 1 USD a month)
# whose policy lets the account administer it and CloudWatch use it.
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

variable "alarm_publishers" {
  description = "Let CloudWatch alarms publish (creates a customer managed KMS key for the topic)."
  type        = bool
  default     = false
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
}

data "aws_iam_policy_document" "key" {
  count = var.alarm_publishers ? 1 : 0
  # A key policy's Resource "*" means this key. The administrator actions are
  # the ones of AWS's default key policy for key administrators, so the
  # account can always manage (and delete) the key.
  statement {
    sid = "KeyAdministration"
    actions = [
      "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
      "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
      "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
    ]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.account_root]
    }
  }
  # What the AWS managed key allows: any principal of this account whose IAM
  # policy lets it publish (the workflows' roles, Lambda failure
  # destinations) may use the key through SNS, without kms:* in its own policy.
  statement {
    sid       = "AccountPublishersUseKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:CallerAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sns.${data.aws_region.current.name}.amazonaws.com"]
    }
  }
  statement {
    sid       = "AlarmsUseKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_kms_key" "this" {
  count                   = var.alarm_publishers ? 1 : 0
  description             = "SNS topic ${var.name} (CloudWatch alarms publish to it)"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = data.aws_iam_policy_document.key[0].json
}

resource "aws_sns_topic" "this" {
  name              = var.name
  kms_master_key_id = var.alarm_publishers ? aws_kms_key.this[0].arn : var.kms_key_id
}

data "aws_iam_policy_document" "tls_only" {
  dynamic "statement" {
    for_each = var.alarm_publishers ? [1] : []
    content {
      sid       = "AlarmsPublish"
      actions   = ["sns:Publish"]
      resources = [aws_sns_topic.this.arn]
      principals {
        type        = "Service"
        identifiers = ["cloudwatch.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [data.aws_caller_identity.current.account_id]
      }
    }
  }
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
