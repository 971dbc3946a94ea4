# Outputs the Makefile and `elt ... --target aws` read with
# terraform -chdir=terraform/envs/dev output -json. Names are a contract
# (/work/team/SESSION2.md); disabled parts are empty strings, never absent.

output "region" {
  description = "Region of the deployment."
  value       = local.region
}

output "bronze_bucket" {
  description = "Bronze bucket name."
  value       = module.bronze.name
}

output "silver_bucket" {
  description = "Silver bucket name."
  value       = module.silver.name
}

output "queue_url" {
  description = "Work queue URL."
  value       = module.queue.url
}

output "dlq_url" {
  description = "Dead-letter queue URL (empty for an existing queue whose DLQ was not given)."
  value       = module.queue.dlq_url
}

output "dlq_arn" {
  description = "Dead-letter queue ARN."
  value       = module.queue.dlq_arn
}

output "ledger_table" {
  description = "Idempotency ledger table."
  value       = module.ledger.name
}

output "ingest_lambda" {
  description = "Ingest function name."
  value       = module.ingest.name
}

output "transform_lambda" {
  description = "Transform function name."
  value       = module.transform.name
}

output "notification_topic_arn" {
  description = "SNS topic for failures."
  value       = module.notifications.arn
}

output "event_bus_name" {
  description = "EventBridge bus that carries PartitionReady events."
  value       = local.event_bus
}

output "ops_state_machine_arn" {
  description = "Ops workflow ARN (empty when disabled)."
  value       = var.ops_enabled ? module.ops_workflow[0].arn : ""
}

output "quality_gate_state_machine_arn" {
  description = "Quality-gate workflow ARN (empty when ge_enabled is off)."
  value       = var.ge_enabled ? module.quality_gate[0].arn : ""
}

output "compaction_state_machine_arn" {
  description = "Compaction-backfill workflow ARN (empty when glue_enabled is off)."
  value       = var.glue_enabled ? module.compaction_workflow[0].arn : ""
}

output "crawl_function_name" {
  description = "Crawl function (catalog refresh from silver without a Glue crawler run); empty when disabled."
  value       = var.glue_enabled ? module.crawl[0].name : ""
}

output "glue_database_name" {
  description = "Glue database (empty when disabled)."
  value       = var.glue_enabled ? module.glue[0].database_name : ""
}

output "glue_crawler_name" {
  description = "Glue crawler (empty when disabled)."
  value       = var.glue_enabled ? module.glue[0].crawler_name : ""
}

output "operator_policy_arn" {
  description = "Managed policy to attach to the person or CI role that runs make ops-*/ge-*/glue-* and elt queue redrive against this deployment."
  value       = aws_iam_policy.operator.arn
}
