// Package terraform holds the AWS deployment (modules/ and envs/) and the
// checks that run without an AWS account or a terraform binary: every .tf
// file is parsed with hashicorp/hcl and checked for canonical formatting,
// declared-and-used variables, module inputs that exist, bound templatefile
// placeholders for every generated workflow, and least-privilege IAM.
package terraform
