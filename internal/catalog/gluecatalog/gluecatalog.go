// Package gluecatalog is the catalog.Catalog driver for the AWS Glue Data
// Catalog (aws-sdk-go-v2). Tables are external Parquet tables (Hive Parquet
// SerDe, classification parquet) so Athena reads them as silver writes
// them.
//
// IAM: glue:CreateTable, UpdateTable, GetTable, GetTables, CreatePartition,
// UpdatePartition, GetPartition, GetPartitions on the catalog, database and
// tables.
package gluecatalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/serverless-elt/elt/internal/awsconf"
	"github.com/serverless-elt/elt/internal/catalog"
	"github.com/serverless-elt/elt/internal/fault"
)

// Hive Parquet classes Glue and Athena expect for Parquet tables.
const (
	ParquetInputFormat  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
	ParquetOutputFormat = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
	ParquetSerDe        = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
	DefaultTimeout      = 30 * time.Second
)

// Catalog is a Glue-backed catalog.Catalog.
type Catalog struct {
	c       *glue.Client
	timeout time.Duration
}

var _ catalog.Catalog = (*Catalog)(nil)

// New returns the catalog.
func New(c *glue.Client) *Catalog { return &Catalog{c: c, timeout: DefaultTimeout} }

// NewClient builds the Glue client for cfg.
func NewClient(cfg aws.Config) *glue.Client { return glue.NewFromConfig(cfg) }

var glueCodes = map[string]fault.Code{
	"EntityNotFoundException":         fault.NotFound,
	"AlreadyExistsException":          fault.AlreadyExists,
	"InvalidInputException":           fault.InvalidArgument,
	"OperationTimeoutException":       fault.Transient,
	"InternalServiceException":        fault.Transient,
	"ConcurrentModificationException": fault.Transient,
}

func classify(op string, err error) error { return awsconf.Classify(op, err, glueCodes) }

func (c *Catalog) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

func columns(cs []catalog.Column) []types.Column {
	out := make([]types.Column, len(cs))
	for i, col := range cs {
		out[i] = types.Column{Name: aws.String(col.Name), Type: aws.String(col.Type)}
	}
	return out
}

func fromColumns(cs []types.Column) []catalog.Column {
	out := make([]catalog.Column, len(cs))
	for i, col := range cs {
		out[i] = catalog.Column{Name: aws.ToString(col.Name), Type: aws.ToString(col.Type)}
	}
	return out
}

func storage(location string, cols []catalog.Column) *types.StorageDescriptor {
	return &types.StorageDescriptor{
		Columns:      columns(cols),
		Location:     aws.String(location),
		InputFormat:  aws.String(ParquetInputFormat),
		OutputFormat: aws.String(ParquetOutputFormat),
		SerdeInfo: &types.SerDeInfo{
			SerializationLibrary: aws.String(ParquetSerDe),
			Parameters:           map[string]string{"serialization.format": "1"},
		},
	}
}

func tableInput(t catalog.Table) *types.TableInput {
	return &types.TableInput{
		Name:              aws.String(t.Name),
		TableType:         aws.String("EXTERNAL_TABLE"),
		Parameters:        map[string]string{"classification": "parquet", "EXTERNAL": "TRUE", "parquet.compression": "SNAPPY"},
		PartitionKeys:     columns(t.PartitionKeys),
		StorageDescriptor: storage(t.Location, t.Columns),
	}
}

func fromTable(db string, t *types.Table) catalog.Table {
	out := catalog.Table{Database: db, Name: aws.ToString(t.Name), PartitionKeys: fromColumns(t.PartitionKeys)}
	if t.DatabaseName != nil {
		out.Database = *t.DatabaseName
	}
	if sd := t.StorageDescriptor; sd != nil {
		out.Location = aws.ToString(sd.Location)
		out.Columns = fromColumns(sd.Columns)
	}
	return out
}

// UpsertTable implements catalog.Catalog: CreateTable, or UpdateTable when
// it exists.
func (c *Catalog) UpsertTable(ctx context.Context, t catalog.Table) error {
	op := fmt.Sprintf("glue CreateTable %s.%s", t.Database, t.Name)
	cctx, cancel := c.ctx(ctx)
	defer cancel()
	_, err := c.c.CreateTable(cctx, &glue.CreateTableInput{DatabaseName: aws.String(t.Database), TableInput: tableInput(t)})
	if err == nil {
		return nil
	}
	var exists *types.AlreadyExistsException
	if !errors.As(err, &exists) {
		return classify(op, err)
	}
	_, err = c.c.UpdateTable(cctx, &glue.UpdateTableInput{DatabaseName: aws.String(t.Database), TableInput: tableInput(t)})
	return classify(fmt.Sprintf("glue UpdateTable %s.%s", t.Database, t.Name), err)
}

// GetTable implements catalog.Catalog.
func (c *Catalog) GetTable(ctx context.Context, database, name string) (catalog.Table, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	out, err := c.c.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String(database), Name: aws.String(name)})
	if err != nil {
		return catalog.Table{}, classify(fmt.Sprintf("glue GetTable %s.%s", database, name), err)
	}
	return fromTable(database, out.Table), nil
}

// ListTables implements catalog.Catalog (GetTables, every page, by name).
func (c *Catalog) ListTables(ctx context.Context, database string) ([]catalog.Table, error) {
	tables := []catalog.Table{}
	p := glue.NewGetTablesPaginator(c.c, &glue.GetTablesInput{DatabaseName: aws.String(database)})
	for p.HasMorePages() {
		cctx, cancel := c.ctx(ctx)
		page, err := p.NextPage(cctx)
		cancel()
		if err != nil {
			return nil, classify("glue GetTables "+database, err)
		}
		for i := range page.TableList {
			tables = append(tables, fromTable(database, &page.TableList[i]))
		}
	}
	sort.Slice(tables, func(i, j int) bool { return tables[i].Name < tables[j].Name })
	return tables, nil
}

func partitionInput(p catalog.Partition, cols []catalog.Column) *types.PartitionInput {
	return &types.PartitionInput{Values: p.Values, StorageDescriptor: storage(p.Location, cols)}
}

func fromPartition(p types.Partition) catalog.Partition {
	out := catalog.Partition{Database: aws.ToString(p.DatabaseName), Table: aws.ToString(p.TableName), Values: p.Values}
	if p.StorageDescriptor != nil {
		out.Location = aws.ToString(p.StorageDescriptor.Location)
	}
	return out
}

// UpsertPartition implements catalog.Catalog: CreatePartition, or
// UpdatePartition when it exists. The partition's storage descriptor
// repeats the table's columns, as Glue crawlers write them.
func (c *Catalog) UpsertPartition(ctx context.Context, p catalog.Partition) error {
	t, err := c.GetTable(ctx, p.Database, p.Table)
	if err != nil {
		return err
	}
	op := fmt.Sprintf("glue CreatePartition %s.%s %v", p.Database, p.Table, p.Values)
	cctx, cancel := c.ctx(ctx)
	defer cancel()
	_, err = c.c.CreatePartition(cctx, &glue.CreatePartitionInput{
		DatabaseName: aws.String(p.Database), TableName: aws.String(p.Table), PartitionInput: partitionInput(p, t.Columns),
	})
	if err == nil {
		return nil
	}
	var exists *types.AlreadyExistsException
	if !errors.As(err, &exists) {
		return classify(op, err)
	}
	_, err = c.c.UpdatePartition(cctx, &glue.UpdatePartitionInput{
		DatabaseName: aws.String(p.Database), TableName: aws.String(p.Table),
		PartitionValueList: p.Values, PartitionInput: partitionInput(p, t.Columns),
	})
	return classify(fmt.Sprintf("glue UpdatePartition %s.%s %v", p.Database, p.Table, p.Values), err)
}

// GetPartition implements catalog.Catalog.
func (c *Catalog) GetPartition(ctx context.Context, database, table string, values []string) (catalog.Partition, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	out, err := c.c.GetPartition(ctx, &glue.GetPartitionInput{DatabaseName: aws.String(database), TableName: aws.String(table), PartitionValues: values})
	if err != nil {
		return catalog.Partition{}, classify(fmt.Sprintf("glue GetPartition %s.%s %v", database, table, values), err)
	}
	p := fromPartition(*out.Partition)
	if p.Database == "" {
		p.Database = database
	}
	if p.Table == "" {
		p.Table = table
	}
	return p, nil
}

// ListPartitions implements catalog.Catalog (GetPartitions, every page,
// sorted by values element-wise).
func (c *Catalog) ListPartitions(ctx context.Context, database, table string) ([]catalog.Partition, error) {
	parts := []catalog.Partition{}
	p := glue.NewGetPartitionsPaginator(c.c, &glue.GetPartitionsInput{DatabaseName: aws.String(database), TableName: aws.String(table)})
	for p.HasMorePages() {
		cctx, cancel := c.ctx(ctx)
		page, err := p.NextPage(cctx)
		cancel()
		if err != nil {
			return nil, classify(fmt.Sprintf("glue GetPartitions %s.%s", database, table), err)
		}
		for _, gp := range page.Partitions {
			part := fromPartition(gp)
			if part.Database == "" {
				part.Database = database
			}
			if part.Table == "" {
				part.Table = table
			}
			parts = append(parts, part)
		}
	}
	sort.Slice(parts, func(i, j int) bool { return slices.Compare(parts[i].Values, parts[j].Values) < 0 })
	return parts, nil
}
