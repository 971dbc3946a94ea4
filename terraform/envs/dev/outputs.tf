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

output "ops_state_machine_arn" {
  description = "Ops workflow ARN (empty when disabled)."
  value       = var.ops_enabled ? module.ops_workflow[0].arn : ""
}

output "glue_database_name" {
  description = "Glue database (empty when disabled)."
  value       = var.glue_enabled ? module.glue[0].database_name : ""
}

output "glue_crawler_name" {
  description = "Glue crawler (empty when disabled)."
  value       = var.glue_enabled ? module.glue[0].crawler_name : ""
}
