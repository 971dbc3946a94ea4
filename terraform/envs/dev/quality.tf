# ------------------------------------------------------------- quality gate
# quality-gate (ge_enabled): evaluate an expectation suite over one silver
# partition, write the result under ge/results/, quarantine a failed
# partition (ge/quarantine/<type>/dt=<dt>/marker.json) and notify.
# With ge_eventbridge_enabled, transform's PartitionReady events start it
# through the quality_trigger function, which names each execution after
# its partition (an EventBridge target cannot set the execution name).

locals {
  quality_gate_name = "${local.name}-quality-gate"
  quality_gate_arn  = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.quality_gate_name}"
  ge_trigger        = var.ge_enabled && var.ge_eventbridge_enabled
}

module "quality" {
  count              = var.ge_enabled ? 1 : 0
  source             = "../../modules/lambda_function"
  name               = "${local.name}-quality"
  handler            = "quality"
  zip_path           = var.lambda_zip
  timeout_seconds    = 900
  memory_mb          = 1024
  log_retention_days = var.log_retention_days
  # With Glue on, the partition's location comes from the catalog (a
  # compacted partition lives under silver_compacted/).
  environment = merge(local.common_env, var.glue_enabled ? { ELT_GLUE_DATABASE = local.glue_database } : {})
  policy_statements = concat([
    { sid = "ListSilver", actions = ["s3:ListBucket"], resources = [module.silver.arn], conditions = [{ test = "StringLike", variable = "s3:prefix", values = ["${local.silver_root}*", "${local.compacted_root}*", "${local.ge_root}suites/*", "${local.ge_quarantine}*"] }] },
    { sid = "ReadSilver", actions = ["s3:GetObject"], resources = ["${module.silver.arn}/${local.silver_root}*", "${module.silver.arn}/${local.compacted_root}*"] },
    # A suite override (ge/suites/<type>.json) and the partition's quarantine
    # marker are read (HeadObject needs GetObject, and a missing key answers
    # 404 rather than 403 only with ListBucket on its prefix, granted above).
    { sid = "ReadSuitesAndMarkers", actions = ["s3:GetObject"], resources = ["${module.silver.arn}/${local.ge_root}suites/*", "${module.silver.arn}/${local.ge_quarantine}*"] },
    { sid = "WriteResults", actions = ["s3:PutObject"], resources = ["${module.silver.arn}/${local.ge_root}*"] },
    # A passing run lifts the partition's earlier quarantine marker.
    { sid = "LiftQuarantine", actions = ["s3:DeleteObject"], resources = ["${module.silver.arn}/${local.ge_quarantine}*"] },
    ], var.glue_enabled ? [
    { sid = "PartitionLocation", actions = ["glue:GetPartition"], resources = [local.glue_catalog, local.glue_db_arn, local.glue_tables] },
  ] : [])
}

module "quality_gate" {
  count  = var.ge_enabled ? 1 : 0
  source = "../../modules/state_machine"
  name   = local.quality_gate_name
  definition = templatefile("${local.workflows}/quality_gate.asl.json", {
    quality_function_arn   = module.quality[0].arn
    notification_topic_arn = module.notifications.arn
  })
  log_retention_days = var.log_retention_days
  # The quarantine marker is written by the S3 SDK integration
  # (aws-sdk:s3:putObject), as the state machine's role.
  policy_statements = [
    { sid = "InvokeQuality", actions = ["lambda:InvokeFunction"], resources = [module.quality[0].arn] },
    { sid = "QuarantineMarker", actions = ["s3:PutObject"], resources = ["${module.silver.arn}/${local.ge_quarantine}*"] },
    { sid = "Notify", actions = ["sns:Publish"], resources = [module.notifications.arn] },
  ]
}

module "quality_trigger" {
  count              = local.ge_trigger ? 1 : 0
  source             = "../../modules/lambda_function"
  name               = "${local.name}-quality-trigger"
  handler            = "quality_trigger"
  zip_path           = var.lambda_zip
  timeout_seconds    = 30
  memory_mb          = 128
  log_retention_days = var.log_retention_days
  environment = merge(local.common_env, {
    ELT_QUALITY_GATE_ARN = module.quality_gate[0].arn
  })
  policy_statements = [
    { sid = "StartQualityGate", actions = ["states:StartExecution"], resources = [module.quality_gate[0].arn] },
    # Lambda's async failure destination publishes as the function's role.
    { sid = "ReportDroppedEvents", actions = ["sns:Publish"], resources = [module.notifications.arn] },
  ]
}

# EventBridge invokes the trigger asynchronously: Lambda retries a failed
# start (throttling, an unavailable endpoint) twice, then reports the event
# on the notification topic instead of dropping it silently.
resource "aws_lambda_function_event_invoke_config" "quality_trigger" {
  count                        = local.ge_trigger ? 1 : 0
  function_name                = module.quality_trigger[0].name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 3600
  destination_config {
    on_failure {
      destination = module.notifications.arn
    }
  }
}

resource "aws_cloudwatch_event_rule" "partition_ready" {
  count       = local.ge_trigger ? 1 : 0
  name        = "${local.name}-partition-ready"
  description = "A silver partition was written: run its quality gate."
  event_pattern = jsonencode({
    source        = ["elt.pipeline"]
    "detail-type" = ["PartitionReady"]
  })
}

resource "aws_cloudwatch_event_target" "partition_ready" {
  count = local.ge_trigger ? 1 : 0
  rule  = aws_cloudwatch_event_rule.partition_ready[0].name
  arn   = module.quality_trigger[0].arn
  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 10
  }
}

resource "aws_lambda_permission" "partition_ready" {
  count         = local.ge_trigger ? 1 : 0
  statement_id  = "AllowPartitionReadyRule"
  action        = "lambda:InvokeFunction"
  function_name = module.quality_trigger[0].name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.partition_ready[0].arn
}
