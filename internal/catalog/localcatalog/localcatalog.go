// Package localcatalog is the embedded table catalog: JSON files on disk,
//
//	<dir>/<database>/<table>/table.json
//	<dir>/<database>/<table>/partitions/<escaped values>.json
//
// written atomically (temp file + rename), so `elt` commands can read the
// catalog while the stack runs and a crash never leaves half a file.
package localcatalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/serverless-elt/elt/internal/catalog"
	"github.com/serverless-elt/elt/internal/fault"
)

// Catalog is the on-disk catalog.
type Catalog struct {
	dir string
}

var _ catalog.Catalog = (*Catalog)(nil)

// New returns a catalog in dir, creating it if needed.
func New(dir string) (*Catalog, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create catalog %s: %w", dir, err)
	}
	return &Catalog{dir: dir}, nil
}

func checkName(kind, name string) error {
	if name == "" || name == "." || name == ".." || strings.HasPrefix(name, ".") || strings.ContainsAny(name, "/\\\x00") || len(name) > 255 {
		return fmt.Errorf("invalid %s name %q", kind, name)
	}
	return nil
}

func (c *Catalog) tableDir(db, table string) string { return filepath.Join(c.dir, db, table) }

// partitionFile names a partition's file: each value query-escaped (which
// leaves only letters, digits and -_.~ and '%'), joined by ','.
func partitionFile(values []string) string {
	esc := make([]string, len(values))
	for i, v := range values {
		esc[i] = url.QueryEscape(v)
	}
	return "p=" + strings.Join(esc, ",") + ".json"
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func readJSON(op, path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fault.New(fault.NotFound, op, err)
		}
		return fault.New(fault.Unknown, op, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fault.New(fault.Unknown, op, fmt.Errorf("decode %s: %w", path, err))
	}
	return nil
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	return fault.New(fault.Unknown, op, err)
}

// UpsertTable creates or replaces a table (its partitions stay).
func (c *Catalog) UpsertTable(ctx context.Context, t catalog.Table) error {
	op := "localcatalog.UpsertTable " + t.Database + "." + t.Name
	if err := errors.Join(checkName("database", t.Database), checkName("table", t.Name)); err != nil {
		return fault.New(fault.InvalidArgument, op, err)
	}
	return wrap(op, writeJSON(filepath.Join(c.tableDir(t.Database, t.Name), "table.json"), t))
}

// GetTable returns a table.
func (c *Catalog) GetTable(ctx context.Context, database, name string) (catalog.Table, error) {
	op := "localcatalog.GetTable " + database + "." + name
	if err := errors.Join(checkName("database", database), checkName("table", name)); err != nil {
		return catalog.Table{}, fault.New(fault.InvalidArgument, op, err)
	}
	var t catalog.Table
	if err := readJSON(op, filepath.Join(c.tableDir(database, name), "table.json"), &t); err != nil {
		return catalog.Table{}, err
	}
	return t, nil
}

// ListTables returns a database's tables sorted by name.
func (c *Catalog) ListTables(ctx context.Context, database string) ([]catalog.Table, error) {
	op := "localcatalog.ListTables " + database
	if err := checkName("database", database); err != nil {
		return nil, fault.New(fault.InvalidArgument, op, err)
	}
	des, err := os.ReadDir(filepath.Join(c.dir, database))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(op, err)
	}
	var out []catalog.Table
	for _, de := range des { // ReadDir sorts by name
		if !de.IsDir() || strings.HasPrefix(de.Name(), ".") {
			continue
		}
		t, err := c.GetTable(ctx, database, de.Name())
		if fault.Is(err, fault.NotFound) {
			continue // a directory without table.json (partially removed)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (c *Catalog) checkPartition(op, database, table string) error {
	if err := errors.Join(checkName("database", database), checkName("table", table)); err != nil {
		return fault.New(fault.InvalidArgument, op, err)
	}
	if _, err := os.Stat(filepath.Join(c.tableDir(database, table), "table.json")); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fault.New(fault.NotFound, op, fmt.Errorf("table %s.%s does not exist", database, table))
		}
		return wrap(op, err)
	}
	return nil
}

// UpsertPartition creates or replaces a partition of an existing table.
func (c *Catalog) UpsertPartition(ctx context.Context, p catalog.Partition) error {
	op := fmt.Sprintf("localcatalog.UpsertPartition %s.%s %q", p.Database, p.Table, p.Values)
	if err := c.checkPartition(op, p.Database, p.Table); err != nil {
		return err
	}
	if len(p.Values) == 0 {
		return fault.New(fault.InvalidArgument, op, errors.New("partition without values"))
	}
	return wrap(op, writeJSON(filepath.Join(c.tableDir(p.Database, p.Table), "partitions", partitionFile(p.Values)), p))
}

// GetPartition returns one partition.
func (c *Catalog) GetPartition(ctx context.Context, database, table string, values []string) (catalog.Partition, error) {
	op := fmt.Sprintf("localcatalog.GetPartition %s.%s %q", database, table, values)
	if err := c.checkPartition(op, database, table); err != nil {
		return catalog.Partition{}, err
	}
	var p catalog.Partition
	if err := readJSON(op, filepath.Join(c.tableDir(database, table), "partitions", partitionFile(values)), &p); err != nil {
		return catalog.Partition{}, err
	}
	return p, nil
}

// ListPartitions returns a table's partitions sorted by values.
func (c *Catalog) ListPartitions(ctx context.Context, database, table string) ([]catalog.Partition, error) {
	op := fmt.Sprintf("localcatalog.ListPartitions %s.%s", database, table)
	if err := c.checkPartition(op, database, table); err != nil {
		return nil, err
	}
	dir := filepath.Join(c.tableDir(database, table), "partitions")
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(op, err)
	}
	var out []catalog.Partition
	for _, de := range des {
		if de.IsDir() || !strings.HasPrefix(de.Name(), "p=") || !strings.HasSuffix(de.Name(), ".json") {
			continue
		}
		var p catalog.Partition
		if err := readJSON(op, filepath.Join(dir, de.Name()), &p); err != nil {
			if fault.Is(err, fault.NotFound) {
				continue
			}
			return nil, err
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b catalog.Partition) int { return slices.Compare(a.Values, b.Values) })
	return out, nil
}
