# The Glue Data Catalog for silver: a database, one table per record type
# (partitioned by dt) and a crawler that refreshes partitions. Quarantine and
# quality-result prefixes are excluded: they are never data.
terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "database_name" {
  description = "Glue database name."
  type        = string
}

variable "crawler_name" {
  description = "Crawler name."
  type        = string
}

variable "silver_bucket" {
  description = "Silver bucket name."
  type        = string
}

variable "silver_bucket_arn" {
  description = "Silver bucket ARN."
  type        = string
}

variable "silver_prefix" {
  description = "Prefix of silver data, with trailing slash."
  type        = string
  default     = "silver/"
}

variable "table_prefix" {
  description = "Prefix for table names."
  type        = string
  default     = "silver_"
}

variable "record_types" {
  description = "Record types; each is a table at <silver_prefix><type>/."
  type        = list(string)
}

variable "crawler_schedule" {
  description = "Crawler schedule (cron); empty for on demand."
  type        = string
  default     = ""
}

resource "aws_glue_catalog_database" "this" {
  name = var.database_name
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "crawler" {
  name               = "${var.crawler_name}-role"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  catalog_arn  = "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:catalog"
  database_arn = "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:database/${var.database_name}"
  table_arn    = "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:table/${var.database_name}/*"
  log_arn      = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:/aws-glue/crawlers:*"
}

data "aws_iam_policy_document" "crawler" {
  statement {
    sid       = "ReadSilver"
    actions   = ["s3:GetObject"]
    resources = ["${var.silver_bucket_arn}/${var.silver_prefix}*"]
  }
  statement {
    sid       = "ListSilver"
    actions   = ["s3:ListBucket"]
    resources = [var.silver_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.silver_prefix}*"]
    }
  }
  statement {
    sid = "Catalog"
    actions = [
      "glue:GetDatabase",
      "glue:GetTable",
      "glue:GetTables",
      "glue:UpdateTable",
      "glue:CreateTable",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:BatchGetPartition",
      "glue:CreatePartition",
      "glue:BatchCreatePartition",
      "glue:UpdatePartition",
      "glue:BatchUpdatePartition",
    ]
    resources = [local.catalog_arn, local.database_arn, local.table_arn]
  }
  statement {
    sid       = "CrawlerLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [local.log_arn]
  }
}

resource "aws_iam_role_policy" "crawler" {
  name   = "${var.crawler_name}-policy"
  role   = aws_iam_role.crawler.id
  policy = data.aws_iam_policy_document.crawler.json
}

resource "aws_glue_crawler" "this" {
  name          = var.crawler_name
  role          = aws_iam_role.crawler.arn
  database_name = aws_glue_catalog_database.this.name
  table_prefix  = var.table_prefix
  schedule      = var.crawler_schedule == "" ? null : var.crawler_schedule

  dynamic "s3_target" {
    for_each = toset(var.record_types)
    content {
      path       = "s3://${var.silver_bucket}/${var.silver_prefix}${s3_target.value}/"
      exclusions = ["**/_manifests/**", "**/_tmp/**", "**/*.json", "**/*.jsonl"]
    }
  }

  # Incremental crawls: only new dt= folders are added. A full recrawl would
  # point a compacted partition (located under silver_compacted/ by the
  # compact task) back at its silver/ folder; AWS requires LOG for both
  # behaviours with CRAWL_NEW_FOLDERS_ONLY. Schema changes of a record type
  # reach the tables through the crawl function (or a one-off full crawl).
  schema_change_policy {
    update_behavior = "LOG"
    delete_behavior = "LOG"
  }

  recrawl_policy {
    recrawl_behavior = "CRAWL_NEW_FOLDERS_ONLY"
  }

  configuration = jsonencode({
    Version = 1
    Grouping = {
      TableGroupingPolicy = "CombineCompatibleSchemas"
    }
    CrawlerOutput = {
      Partitions = { AddOrUpdateBehavior = "InheritFromTable" }
    }
  })
}

output "database_name" {
  description = "Glue database name."
  value       = aws_glue_catalog_database.this.name
}

output "crawler_name" {
  description = "Crawler name."
  value       = aws_glue_crawler.this.name
}

output "crawler_arn" {
  description = "Crawler ARN."
  value       = aws_glue_crawler.this.arn
}

output "database_arn" {
  description = "Glue database ARN."
  value       = local.database_arn
}

output "table_arn_pattern" {
  description = "ARN pattern of the database's tables."
  value       = local.table_arn
}

output "catalog_arn" {
  description = "Glue catalog ARN."
  value       = local.catalog_arn
}
