# ----------------------------------------------------------- observability
# observability_enabled: alarms on the DLQ, the queue's backlog age, every
# function's errors and every workflow's failed executions, and a dashboard.

module "observability" {
  count           = var.observability_enabled ? 1 : 0
  source          = "../../modules/observability"
  name_prefix     = local.name
  alarm_topic_arn = module.notifications.arn
  queue_name      = module.queue.name
  dlq_name        = module.queue.dlq_name
  function_names = merge(
    { ingest = module.ingest.name, transform = module.transform.name },
    var.ops_enabled ? { validate_input = module.validate_input[0].name, replay = module.replay[0].name, silverpoll = module.silverpoll[0].name } : {},
    var.ge_enabled ? { quality = module.quality[0].name } : {},
    local.ge_trigger ? { quality_trigger = module.quality_trigger[0].name } : {},
    var.glue_enabled ? { crawl = module.crawl[0].name, list_partitions = module.list_partitions[0].name, compact = module.compact[0].name, compact_cleanup = module.compact_cleanup[0].name } : {},
  )
  state_machine_arns = merge(
    var.ops_enabled ? { ops = module.ops_workflow[0].arn } : {},
    var.ge_enabled ? { quality_gate = module.quality_gate[0].arn } : {},
    var.glue_enabled ? { compaction = module.compaction_workflow[0].arn } : {},
  )
}
