variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-2"
}

variable "project" {
  description = "Name prefix for every resource."
  type        = string
  default     = "elt"
}

variable "environment" {
  description = "Environment name, part of resource names."
  type        = string
  default     = "dev"
}

variable "name_suffix" {
  description = "Suffix that makes bucket names globally unique (e.g. a short random string)."
  type        = string
}

variable "lambda_zip" {
  description = "Bootstrap zip built by make build."
  type        = string
  default     = "../../../build/bootstrap.zip"
}

variable "force_destroy_buckets" {
  description = "Let terraform destroy delete non-empty buckets (dev only)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of every log group."
  type        = number
  default     = 14
}

variable "record_types" {
  description = "Record types the pipeline knows (one Glue table each)."
  type        = list(string)
  default     = ["shipments", "tracking_events", "invoice_lines"]
}

variable "transform_timeout_seconds" {
  description = "Transform function timeout; the queue's visibility timeout is 6x this."
  type        = number
  default     = 120
}

variable "transform_batch_size" {
  description = "SQS messages per transform invocation."
  type        = number
  default     = 10
}

variable "max_receive_count" {
  description = "Receives before a message moves to the DLQ."
  type        = number
  default     = 5
}

variable "chunk_bytes" {
  description = "Bytes per transform chunk of a JSONL object."
  type        = number
  default     = 67108864
}

variable "existing_queue_url" {
  description = "Use an existing queue instead of creating one (accounts that forbid SQS tag APIs)."
  type        = string
  default     = ""
}

variable "existing_queue_arn" {
  description = "ARN of existing_queue_url."
  type        = string
  default     = ""
}

variable "existing_dlq_arn" {
  description = "ARN of the existing queue's DLQ (alarms only)."
  type        = string
  default     = ""
}

variable "alert_emails" {
  description = "Email addresses subscribed to the notification topic."
  type        = list(string)
  default     = []
}

variable "ops_enabled" {
  description = "Create the ops replay-and-quality workflow and its functions."
  type        = bool
  default     = true
}

variable "ops_schedule_enabled" {
  description = "Start the ops workflow on a schedule."
  type        = bool
  default     = false
}

variable "ops_schedule_expression" {
  description = "EventBridge schedule for the ops workflow."
  type        = string
  default     = "rate(1 day)"
}

variable "ops_record_type" {
  description = "Record type the scheduled ops run replays."
  type        = string
  default     = "shipments"
}

variable "ops_window_hours" {
  description = "Replay window of the scheduled ops run."
  type        = number
  default     = 24
}

variable "glue_enabled" {
  description = "Create the Glue database and crawler over silver, the crawl function and the compaction-backfill workflow."
  type        = bool
  default     = false
}

variable "glue_crawler_schedule" {
  description = "Crawler schedule (cron), empty for on demand."
  type        = string
  default     = ""
}

variable "ge_enabled" {
  description = "Create the quality-gate workflow and its function, and emit PartitionReady events from transform."
  type        = bool
  default     = false
}

variable "ge_eventbridge_enabled" {
  description = "With ge_enabled: run the quality gate for every PartitionReady event (EventBridge rule -> quality_trigger function)."
  type        = bool
  default     = true
}

variable "observability_enabled" {
  description = "Create CloudWatch alarms and the dashboard (some accounts forbid PutMetricAlarm/PutDashboard)."
  type        = bool
  default     = false
}
