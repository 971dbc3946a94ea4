# An EventBridge schedule rule (rate(...) or cron(...)) that starts a state
# machine with a fixed input, through a role allowed to start only that
# state machine.
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
  description = "Rule name."
  type        = string
}

variable "schedule_expression" {
  description = "EventBridge schedule expression, e.g. rate(1 day) or cron(0 3 * * ? *)."
  type        = string
}

variable "state_machine_arn" {
  description = "State machine to start."
  type        = string
}

variable "input" {
  description = "Execution input (JSON string)."
  type        = string
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-events-role"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "StartWorkflow"
    actions   = ["states:StartExecution"]
    resources = [var.state_machine_arn]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-events-policy"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_cloudwatch_event_rule" "this" {
  name                = var.name
  schedule_expression = var.schedule_expression
}

resource "aws_cloudwatch_event_target" "this" {
  rule     = aws_cloudwatch_event_rule.this.name
  arn      = var.state_machine_arn
  role_arn = aws_iam_role.this.arn
  input    = var.input
}

output "rule_name" {
  description = "Rule name."
  value       = aws_cloudwatch_event_rule.this.name
}
