// Package catalog is the table catalog for silver (the Glue Data Catalog on
// AWS, a catalog on disk when embedded). Quarantine and result prefixes are
// never catalogued as data.
package catalog

import "context"

// Column is one table column with a Hive/Glue type name ("string", "double",
// "bigint", "timestamp").
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Table is a partitioned table over a location.
type Table struct {
	Database      string   `json:"database"`
	Name          string   `json:"name"`
	Location      string   `json:"location"` // s3://bucket/prefix/
	Columns       []Column `json:"columns"`
	PartitionKeys []Column `json:"partition_keys"`
}

// Partition is one partition of a table and where its files are.
type Partition struct {
	Database string   `json:"database"`
	Table    string   `json:"table"`
	Values   []string `json:"values"`   // e.g. ["2025-12-31"] for dt
	Location string   `json:"location"` // s3://bucket/prefix/dt=2025-12-31/
}

// Catalog stores tables and partitions. Missing tables or partitions are
// fault.NotFound.
type Catalog interface {
	UpsertTable(ctx context.Context, t Table) error
	GetTable(ctx context.Context, database, name string) (Table, error)
	ListTables(ctx context.Context, database string) ([]Table, error)
	UpsertPartition(ctx context.Context, p Partition) error
	GetPartition(ctx context.Context, database, table string, values []string) (Partition, error)
	ListPartitions(ctx context.Context, database, table string) ([]Partition, error)
}
