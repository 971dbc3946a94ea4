package silver

import (
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"

	"github.com/serverless-elt/elt/internal/records"
)

// Schema is the Parquet schema of a record type's silver files (the one
// the chunk writer uses), for code that rewrites silver files as they are,
// such as compaction (tasks/compact).
func Schema(t *records.Type) *parquet.Schema { return schemaFor(t) }

// Codec is the SNAPPY codec silver files are written with.
func Codec() compress.Codec { return fastSnappy{} }
