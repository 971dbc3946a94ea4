terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
  # State is local by default. For shared state, add a backend "s3" {} block
  # in a backend.tf of your own and run make tf-init TF_BACKEND_CONFIG=backend.hcl
  # (see backend.hcl.example).
}

provider "aws" {
  region = var.region
  default_tags {
    tags = {
      Project     = var.project
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}
