# ------------------------------------------------------------------ operator
# What a person (or a CI role) needs to operate this deployment with the
# make targets and `elt ... --target aws`: upload to bronze, read silver and
# quality results, start and follow the workflows, run the crawler, inspect
# the queues and redrive the DLQ. It is a managed policy, not a role: attach
# it to whatever identity you already use (output operator_policy_arn).
#
# DLQ redrive (elt queue redrive) uses SQS's message move task: AWS documents
# that StartMessageMoveTask needs, on the source (the DLQ),
# sqs:StartMessageMoveTask, sqs:ReceiveMessage, sqs:DeleteMessage and
# sqs:GetQueueAttributes, and on the destination sqs:SendMessage; the task is
# followed with sqs:ListMessageMoveTasks and may be stopped with
# sqs:CancelMessageMoveTask. A bounded redrive (--max N) moves messages by
# hand with the same receive/send/delete actions.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue-redrive.html

locals {
  operator_state_machines = compact([
    var.ops_enabled ? module.ops_workflow[0].arn : "",
    var.ge_enabled ? local.quality_gate_arn : "",
    var.glue_enabled ? local.compaction_arn : "",
  ])
  operator_state_machine_names = compact([
    var.ops_enabled ? local.ops_name : "",
    var.ge_enabled ? local.quality_gate_name : "",
    var.glue_enabled ? local.compaction_name : "",
  ])
  operator_executions = flatten([
    for n in local.operator_state_machine_names : [
      "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${n}:*",
      # Child executions of a Distributed Map: execution:<machine>/<map run>:<id>.
      "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${n}/*",
    ]
  ])
  dlq_arns = compact([module.queue.dlq_arn])
}

data "aws_iam_policy_document" "operator" {
  statement {
    sid       = "UploadBronze"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]
    resources = ["${module.bronze.arn}/${local.bronze_root}*"]
  }
  statement {
    sid       = "ListBuckets"
    actions   = ["s3:ListBucket"]
    resources = [module.bronze.arn, module.silver.arn]
  }
  statement {
    sid       = "ReadSilver"
    actions   = ["s3:GetObject"]
    resources = ["${module.silver.arn}/*"]
  }
  statement {
    sid       = "QueueStatus"
    actions   = ["sqs:GetQueueAttributes", "sqs:SendMessage"]
    resources = [module.queue.arn]
  }
  dynamic "statement" {
    for_each = length(local.dlq_arns) > 0 ? [1] : []
    content {
      sid       = "RedriveDLQ"
      actions   = ["sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:StartMessageMoveTask", "sqs:ListMessageMoveTasks", "sqs:CancelMessageMoveTask"]
      resources = local.dlq_arns
    }
  }
  dynamic "statement" {
    for_each = length(local.operator_state_machines) > 0 ? [1] : []
    content {
      sid       = "StartWorkflows"
      actions   = ["states:StartExecution", "states:ListExecutions", "states:DescribeStateMachine"]
      resources = local.operator_state_machines
    }
  }
  dynamic "statement" {
    for_each = length(local.operator_executions) > 0 ? [1] : []
    content {
      sid       = "FollowWorkflows"
      actions   = ["states:DescribeExecution", "states:GetExecutionHistory", "states:StopExecution"]
      resources = local.operator_executions
    }
  }
  dynamic "statement" {
    for_each = var.glue_enabled ? [1] : []
    content {
      sid       = "Crawl"
      actions   = ["glue:StartCrawler", "glue:GetCrawler", "lambda:InvokeFunction", "glue:GetTable", "glue:GetTables", "glue:GetPartitions"]
      resources = [module.glue[0].crawler_arn, module.crawl[0].arn, local.glue_catalog, local.glue_db_arn, local.glue_tables]
    }
  }
}

resource "aws_iam_policy" "operator" {
  name        = "${local.name}-operator"
  description = "Operate the ${local.name} pipeline: upload, workflows, crawler, queue redrive."
  policy      = data.aws_iam_policy_document.operator.json
}
