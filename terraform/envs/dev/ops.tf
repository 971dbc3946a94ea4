# ------------------------------------------------------------- ops workflow
# ops-replay-quality: validate the input, replay a bronze window (copies under
# bronze/replay/<execution>/ re-enter ingest through the bucket
# notification), then poll silver until the replayed objects have landed.

module "validate_input" {
  count              = var.ops_enabled ? 1 : 0
  source             = "../../modules/lambda_function"
  name               = "${local.name}-validate-input"
  handler            = "validate_input"
  zip_path           = var.lambda_zip
  timeout_seconds    = 10
  memory_mb          = 128
  log_retention_days = var.log_retention_days
  environment        = local.common_env
  # Validates workflow input against the embedded JSON Schemas: no AWS access.
  policy_statements = []
}

module "replay" {
  count              = var.ops_enabled ? 1 : 0
  source             = "../../modules/lambda_function"
  name               = "${local.name}-replay"
  handler            = "replay"
  zip_path           = var.lambda_zip
  timeout_seconds    = 900
  memory_mb          = 256
  log_retention_days = var.log_retention_days
  environment = merge(local.common_env, {
    ELT_BRONZE_PREFIX        = local.bronze_root
    ELT_REPLAY_COPY_PREFIXES = local.replay_root
  })
  policy_statements = [
    { sid = "ListBronze", actions = ["s3:ListBucket"], resources = [module.bronze.arn], conditions = [{ test = "StringLike", variable = "s3:prefix", values = ["${local.bronze_root}*"] }] },
    # CopyObject reads the source and writes the destination; copies of
    # objects over 5 GiB are multipart (UploadPartCopy), aborted on failure.
    { sid = "ReadBronze", actions = ["s3:GetObject"], resources = ["${module.bronze.arn}/${local.bronze_root}*"] },
    { sid = "WriteReplayCopies", actions = ["s3:PutObject", "s3:AbortMultipartUpload"], resources = ["${module.bronze.arn}/${local.replay_root}*"] },
    { sid = "WriteCopyLists", actions = ["s3:PutObject"], resources = ["${module.silver.arn}/${local.ops_replay_root}*"] },
  ]
}

module "silverpoll" {
  count              = var.ops_enabled ? 1 : 0
  source             = "../../modules/lambda_function"
  name               = "${local.name}-silverpoll"
  handler            = "silverpoll"
  zip_path           = var.lambda_zip
  timeout_seconds    = 300
  memory_mb          = 256
  log_retention_days = var.log_retention_days
  environment        = local.common_env
  policy_statements = [
    { sid = "ListSilver", actions = ["s3:ListBucket"], resources = [module.silver.arn], conditions = [{ test = "StringLike", variable = "s3:prefix", values = ["${local.silver_root}*", "${local.receipts_root}*", "${local.ops_replay_root}*"] }] },
    { sid = "ReadSilver", actions = ["s3:GetObject"], resources = ["${module.silver.arn}/${local.silver_root}*", "${module.silver.arn}/${local.receipts_root}*", "${module.silver.arn}/${local.ops_replay_root}*"] },
  ]
}

locals {
  ops_name = "${local.name}-ops-replay-quality"
  ops_arn  = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.ops_name}"
  # Executions of the workflow and the child executions of its Distributed
  # Map (execution:<machine>/<map run label>:<id>).
  ops_executions = [
    "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.ops_name}:*",
    "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.ops_name}/*",
  ]
}

module "ops_workflow" {
  count  = var.ops_enabled ? 1 : 0
  source = "../../modules/state_machine"
  name   = local.ops_name
  definition = templatefile("${local.workflows}/ops_replay_quality.asl.json", {
    validate_input_function_arn = module.validate_input[0].arn
    replay_function_arn         = module.replay[0].arn
    silverpoll_function_arn     = module.silverpoll[0].arn
    notification_topic_arn      = module.notifications.arn
  })
  log_retention_days = var.log_retention_days
  # The Replay state is a Distributed Map whose ItemReader lists the bronze
  # window (s3:listObjectsV2) and whose items run as child executions of this
  # state machine: AWS documents that the role then needs
  # states:StartExecution on the state machine itself and
  # states:DescribeExecution/StopExecution on its executions, and
  # s3:ListBucket on the bucket the ItemReader lists
  # (https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html).
  # The ARNs are built from the name: the module's own output would be a cycle.
  policy_statements = [
    { sid = "InvokeTasks", actions = ["lambda:InvokeFunction"], resources = [module.validate_input[0].arn, module.replay[0].arn, module.silverpoll[0].arn] },
    { sid = "Notify", actions = ["sns:Publish"], resources = [module.notifications.arn] },
    { sid = "MapChildExecutions", actions = ["states:StartExecution"], resources = [local.ops_arn] },
    { sid = "MapChildStatus", actions = ["states:DescribeExecution", "states:StopExecution"], resources = local.ops_executions },
    { sid = "ItemReaderListBronze", actions = ["s3:ListBucket"], resources = [module.bronze.arn], conditions = [{ test = "StringLike", variable = "s3:prefix", values = ["${local.bronze_root}*"] }] },
  ]
}

module "ops_schedule" {
  count               = var.ops_enabled && var.ops_schedule_enabled ? 1 : 0
  source              = "../../modules/schedules"
  name                = "${local.name}-ops-daily"
  schedule_expression = var.ops_schedule_expression
  state_machine_arn   = module.ops_workflow[0].arn
  # schema/ops_input.schema.json (additionalProperties false).
  input = jsonencode({
    bronze_bucket         = module.bronze.name
    src_prefix            = "${local.bronze_root}${var.ops_record_type}/"
    dest_prefix_base      = "${local.replay_root}scheduled"
    window_hours          = var.ops_window_hours
    silver_bucket         = module.silver.name
    silver_prefix         = local.silver_root
    poll_interval_seconds = 60
    max_attempts          = 30
  })
}
