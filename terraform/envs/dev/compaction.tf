# ---------------------------------------------------- glue catalog, compaction
# glue_enabled: the Glue database and crawler over silver, the crawl function
# (the same catalog refresh the embedded stack runs), and compaction-backfill,
# which rewrites a partition's small files into silver_compacted/ and points
# the catalog partition at them; compact_cleanup removes superseded files
# later, explicitly.

module "glue" {
  count             = var.glue_enabled ? 1 : 0
  source            = "../../modules/glue_catalog"
  database_name     = local.glue_database
  crawler_name      = "${local.name}-silver-crawler"
  silver_bucket     = module.silver.name
  silver_bucket_arn = module.silver.arn
  silver_prefix     = local.silver_root
  record_types      = var.record_types
  crawler_schedule  = var.glue_crawler_schedule
}

locals {
  compaction_name = "${local.name}-compaction-backfill"
  compaction_arn  = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.compaction_name}"
  glue_database   = replace("${local.name}_silver", "-", "_")
  glue_catalog    = "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog"
  glue_db_arn     = "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${local.glue_database}"
  glue_tables     = "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${local.glue_database}/*"
  glue_env = merge(local.common_env, {
    ELT_GLUE_DATABASE = local.glue_database
  })
}

module "crawl" {
  count              = var.glue_enabled ? 1 : 0
  source             = "../../modules/lambda_function"
  name               = "${local.name}-crawl"
  handler            = "crawl"
  zip_path           = var.lambda_zip
  timeout_seconds    = 300
  memory_mb          = 256
  log_retention_days = var.log_retention_days
  environment        = local.glue_env
  policy_statements = [
    # Partitions are found by listing; no object is read.
    { sid = "ListSilver", actions = ["s3:ListBucket"], resources = [module.silver.arn], conditions = [{ test = "StringLike", variable = "s3:prefix", values = ["${local.silver_root}*"] }] },
    { sid = "Catalog", actions = ["glue:GetTable", "glue:CreateTable", "glue:UpdateTable", "glue:GetPartitions", "glue:CreatePartition", "glue:UpdatePartition"], resources = [local.glue_catalog, local.glue_db_arn, local.glue_tables] },
  ]
}

module "list_partitions" {
  count              = var.glue_enabled ? 1 : 0
  source             = "../../modules/lambda_function"
  name               = "${local.name}-list-partitions"
  handler            = "list_partitions"
  zip_path           = var.lambda_zip
  timeout_seconds    = 120
  memory_mb          = 256
  log_retention_days = var.log_retention_days
  environment        = local.glue_env
  policy_statements = [
    { sid = "ListSilver", actions = ["s3:ListBucket"], resources = [module.silver.arn], conditions = [{ test = "StringLike", variable = "s3:prefix", values = ["${local.silver_root}*"] }] },
  ]
}

module "compact" {
  count           = var.glue_enabled ? 1 : 0
  source          = "../../modules/lambda_function"
  name            = "${local.name}-compact"
  handler         = "compact"
  zip_path        = var.lambda_zip
  timeout_seconds = 900
  memory_mb       = 2048
  # Inputs are downloaded and outputs built in /tmp (ELT_TEMP_DIR).
  ephemeral_storage_mb = 4096
  log_retention_days   = var.log_retention_days
  environment          = local.glue_env
  policy_statements = [
    { sid = "ListSilver", actions = ["s3:ListBucket"], resources = [module.silver.arn], conditions = [{ test = "StringLike", variable = "s3:prefix", values = ["${local.silver_root}*", "${local.compacted_root}*"] }] },
    # Inputs are silver/ files or an earlier compaction's outputs.
    { sid = "ReadSilver", actions = ["s3:GetObject"], resources = ["${module.silver.arn}/${local.silver_root}*", "${module.silver.arn}/${local.compacted_root}*"] },
    # Outputs and the manifest; stale parts of a retried run id are deleted;
    # the read-back verification reads the outputs (GetObject above).
    { sid = "WriteCompacted", actions = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], resources = ["${module.silver.arn}/${local.compacted_root}*"] },
    # The table is created when missing (as crawl would), then the partition
    # is switched to the compacted location.
    { sid = "Partition", actions = ["glue:GetTable", "glue:CreateTable", "glue:UpdateTable", "glue:GetPartition", "glue:CreatePartition", "glue:UpdatePartition"], resources = [local.glue_catalog, local.glue_db_arn, local.glue_tables] },
  ]
}

module "compact_cleanup" {
  count              = var.glue_enabled ? 1 : 0
  source             = "../../modules/lambda_function"
  name               = "${local.name}-compact-cleanup"
  handler            = "compact_cleanup"
  zip_path           = var.lambda_zip
  timeout_seconds    = 300
  memory_mb          = 256
  log_retention_days = var.log_retention_days
  environment        = local.glue_env
  policy_statements = [
    # Reads the manifest, HEADs each superseded input (GetObject) to spare a
    # rewritten one, deletes the rest; refuses while the catalog still
    # points at them.
    { sid = "ReadSilver", actions = ["s3:GetObject"], resources = ["${module.silver.arn}/${local.silver_root}*", "${module.silver.arn}/${local.compacted_root}*"] },
    { sid = "RemoveSuperseded", actions = ["s3:DeleteObject"], resources = ["${module.silver.arn}/${local.silver_root}*", "${module.silver.arn}/${local.compacted_root}*"] },
    { sid = "Partition", actions = ["glue:GetPartition"], resources = [local.glue_catalog, local.glue_db_arn, local.glue_tables] },
  ]
}

module "compaction_workflow" {
  count  = var.glue_enabled ? 1 : 0
  source = "../../modules/state_machine"
  name   = local.compaction_name
  definition = templatefile("${local.workflows}/compaction_backfill.asl.json", {
    list_partitions_function_arn = module.list_partitions[0].arn
    compact_function_arn         = module.compact[0].arn
    compact_cleanup_function_arn = module.compact_cleanup[0].arn
    notification_topic_arn       = module.notifications.arn
  })
  log_retention_days = var.log_retention_days
  policy_statements = [
    { sid = "InvokeTasks", actions = ["lambda:InvokeFunction"], resources = [module.list_partitions[0].arn, module.compact[0].arn, module.compact_cleanup[0].arn] },
    { sid = "Notify", actions = ["sns:Publish"], resources = [module.notifications.arn] },
  ]
}
