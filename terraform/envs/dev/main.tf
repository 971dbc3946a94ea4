# The whole pipeline in one environment: buckets, ledger, queue, the Lambda
# functions (one bootstrap, dispatching on its handler name), the S3 -> ingest
# notification, the SQS -> transform mapping, the generated state machines,
# schedules, the Glue catalog, notifications and alarms.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  name        = "${var.project}-${var.environment}"
  account_id  = data.aws_caller_identity.current.account_id
  partition   = data.aws_partition.current.partition
  region      = data.aws_region.current.name
  workflows   = "${path.module}/../../../workflows"
  bronze_root = "bronze/"
  replay_root = "bronze/replay/"
  silver_root = "silver/"
  # Prefixes of the silver bucket that are not data (team contract).
  receipts_root   = "_receipts/"
  ops_replay_root = "ops/replay/"
  ge_root         = "ge/"
  ge_quarantine   = "ge/quarantine/"
  compacted_root  = "silver_compacted/"
  quarantine_root = "quarantine/"
  event_bus       = "default"
  bus_arn         = "arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/${local.event_bus}"

  # Configuration every function reads at cold start (validated there).
  common_env = {
    ELT_BRONZE_BUCKET = module.bronze.name
    ELT_SILVER_BUCKET = module.silver.name
    ELT_LOG_FORMAT    = "json"
  }
}

module "bronze" {
  source          = "../../modules/s3_bucket"
  name            = "${local.name}-bronze-${var.name_suffix}"
  force_destroy   = var.force_destroy_buckets
  expire_prefixes = { (local.replay_root) = 14 }
}

module "silver" {
  source        = "../../modules/s3_bucket"
  name          = "${local.name}-silver-${var.name_suffix}"
  force_destroy = var.force_destroy_buckets
  # Replay copy lists are read only while their ops execution polls; they
  # expire with the bronze copies they describe.
  expire_prefixes = { (local.ops_replay_root) = 14 }
}

module "ledger" {
  source = "../../modules/ledger"
  name   = "${local.name}-ingest-ledger"
}

module "queue" {
  source                     = "../../modules/queue"
  name                       = "${local.name}-events"
  visibility_timeout_seconds = 6 * var.transform_timeout_seconds
  max_receive_count          = var.max_receive_count
  existing_queue_url         = var.existing_queue_url
  existing_queue_arn         = var.existing_queue_arn
  existing_dlq_arn           = var.existing_dlq_arn
}

module "notifications" {
  source              = "../../modules/notifications"
  name                = "${local.name}-notifications"
  email_subscriptions = var.alert_emails
  alarm_publishers    = var.observability_enabled
}

# ---------------------------------------------------------------- hot path

module "ingest" {
  source             = "../../modules/lambda_function"
  name               = "${local.name}-ingest"
  handler            = "ingest"
  zip_path           = var.lambda_zip
  timeout_seconds    = 60
  memory_mb          = 256
  log_retention_days = var.log_retention_days
  environment = merge(local.common_env, {
    ELT_QUEUE_URL    = module.queue.url
    ELT_LEDGER_TABLE = module.ledger.name
    ELT_CHUNK_BYTES  = tostring(var.chunk_bytes)
    # Only replay copies (replay may write nowhere else) may name their
    # silver files after another object (metadata elt-content-etag).
    ELT_BRONZE_PREFIX        = local.bronze_root
    ELT_REPLAY_COPY_PREFIXES = local.replay_root
  })
  policy_statements = [
    { sid = "ReadBronze", actions = ["s3:GetObject"], resources = ["${module.bronze.arn}/${local.bronze_root}*"] },
    { sid = "ClaimObjects", actions = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:DeleteItem"], resources = [module.ledger.arn] },
    { sid = "QueueWork", actions = ["sqs:SendMessage"], resources = [module.queue.arn] },
  ]
}

module "transform" {
  source             = "../../modules/lambda_function"
  name               = "${local.name}-transform"
  handler            = "transform"
  zip_path           = var.lambda_zip
  timeout_seconds    = var.transform_timeout_seconds
  memory_mb          = 1024
  log_retention_days = var.log_retention_days
  environment = merge(local.common_env, {
    ELT_EVENT_BUS             = var.ge_enabled ? local.event_bus : ""
    ELT_EMIT_PARTITION_EVENTS = tostring(var.ge_enabled)
  })
  policy_statements = concat([
    { sid = "ReadBronze", actions = ["s3:GetObject"], resources = ["${module.bronze.arn}/${local.bronze_root}*"] },
    # Large Parquet files go up in multipart uploads; a failed upload is
    # aborted, which needs its own action.
    { sid = "WriteSilver", actions = ["s3:PutObject", "s3:AbortMultipartUpload"], resources = ["${module.silver.arn}/${local.silver_root}*", "${module.silver.arn}/${local.quarantine_root}*"] },
    { sid = "WriteReceipts", actions = ["s3:PutObject"], resources = ["${module.silver.arn}/${local.receipts_root}*"] },
    { sid = "ConsumeQueue", actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"], resources = [module.queue.arn] },
    ], var.ge_enabled ? [
    { sid = "PartitionEvents", actions = ["events:PutEvents"], resources = [local.bus_arn] },
  ] : [])
}

resource "aws_lambda_permission" "bronze_invokes_ingest" {
  statement_id   = "AllowBronzeBucket"
  action         = "lambda:InvokeFunction"
  function_name  = module.ingest.name
  principal      = "s3.amazonaws.com"
  source_arn     = module.bronze.arn
  source_account = local.account_id
}

resource "aws_s3_bucket_notification" "bronze" {
  bucket = module.bronze.name
  lambda_function {
    lambda_function_arn = module.ingest.arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = local.bronze_root
  }
  depends_on = [aws_lambda_permission.bronze_invokes_ingest]
}

resource "aws_lambda_event_source_mapping" "queue_to_transform" {
  event_source_arn                   = module.queue.arn
  function_name                      = module.transform.arn
  batch_size                         = var.transform_batch_size
  maximum_batching_window_in_seconds = 5
  function_response_types            = ["ReportBatchItemFailures"]
  scaling_config {
    maximum_concurrency = 20
  }
}
