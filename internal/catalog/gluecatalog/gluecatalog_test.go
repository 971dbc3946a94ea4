package gluecatalog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/serverless-elt/elt/internal/awstest"
	"github.com/serverless-elt/elt/internal/catalog"
	"github.com/serverless-elt/elt/internal/catalog/catalogtest"
	"github.com/serverless-elt/elt/internal/catalog/gluecatalog"
)

// No Glue Data Catalog server exists in the registries. fakeGlue is a
// loopback stand-in written for these tests: it speaks the wire protocol
// (AWS JSON 1.1, X-Amz-Target AWSGlue.<Operation>), rejects requests that
// miss what the Glue API reference marks required, answers in the
// documented response shapes (GetTable -> {"Table":{...}}, GetTables ->
// {"TableList":[...],"NextToken"}, GetPartitions -> {"Partitions":[...],
// "NextToken"}, errors {"__type":"EntityNotFoundException",...}) and pages
// two items at a time so pagination is exercised. The contract run
// therefore checks the adapter's requests, response mapping, error mapping
// and paging, not Glue's own behaviour.
type fakeGlue struct {
	t      *testing.T
	mu     sync.Mutex
	dbs    map[string]bool
	tables map[string]map[string]any            // db.table -> Table
	parts  map[string]map[string]map[string]any // db.table -> values key -> Partition
	calls  map[string]int
}

func newFakeGlue(t *testing.T) *fakeGlue {
	return &fakeGlue{t: t, dbs: map[string]bool{}, tables: map[string]map[string]any{}, parts: map[string]map[string]map[string]any{}, calls: map[string]int{}}
}

type glueErr struct {
	code, msg string
}

func (f *fakeGlue) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AWSGlue.")
	if !ok || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		f.t.Errorf("request target %q content type %q", r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"))
	}
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		f.t.Errorf("%s body: %v", op, err)
	}
	f.mu.Lock()
	f.calls[op]++
	out, gerr := f.handle(op, in)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if gerr != nil {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": gerr.code, "Message": gerr.msg})
		return
	}
	json.NewEncoder(w).Encode(out)
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func valuesKey(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func page(items []map[string]any, token string) ([]map[string]any, string) {
	start, _ := strconv.Atoi(token)
	end := min(start+2, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next
}

func (f *fakeGlue) handle(op string, in map[string]any) (any, *glueErr) {
	db := str(in, "DatabaseName")
	required := func(names ...string) *glueErr {
		for _, n := range names {
			if in[n] == nil {
				return &glueErr{"InvalidInputException", n + " is required"}
			}
		}
		return nil
	}
	if op != "CreateDatabase" {
		if e := required("DatabaseName"); e != nil {
			return nil, e
		}
		if !f.dbs[db] {
			return nil, &glueErr{"EntityNotFoundException", "Database " + db + " not found."}
		}
	}
	switch op {
	case "CreateDatabase":
		di, _ := in["DatabaseInput"].(map[string]any)
		f.dbs[str(di, "Name")] = true
		return map[string]any{}, nil
	case "CreateTable", "UpdateTable":
		if e := required("TableInput"); e != nil {
			return nil, e
		}
		ti := in["TableInput"].(map[string]any)
		name := str(ti, "Name")
		if name == "" {
			return nil, &glueErr{"InvalidInputException", "TableInput.Name is required"}
		}
		sd, _ := ti["StorageDescriptor"].(map[string]any)
		if str(sd, "Location") == "" || str(sd, "InputFormat") == "" || sd["SerdeInfo"] == nil {
			return nil, &glueErr{"InvalidInputException", "a Parquet table needs Location, InputFormat and SerdeInfo"}
		}
		_, exists := f.tables[db+"."+name]
		if op == "CreateTable" && exists {
			return nil, &glueErr{"AlreadyExistsException", "Table already exists."}
		}
		if op == "UpdateTable" && !exists {
			return nil, &glueErr{"EntityNotFoundException", "Table " + name + " not found."}
		}
		t := map[string]any{"DatabaseName": db, "CreateTime": 1.767323045e9, "CatalogId": "000000000000"}
		for k, v := range ti {
			t[k] = v
		}
		f.tables[db+"."+name] = t
		return map[string]any{}, nil
	case "GetTable":
		t, ok := f.tables[db+"."+str(in, "Name")]
		if !ok {
			return nil, &glueErr{"EntityNotFoundException", "Table " + str(in, "Name") + " not found."}
		}
		return map[string]any{"Table": t}, nil
	case "GetTables":
		var list []map[string]any
		for k, t := range f.tables {
			if strings.HasPrefix(k, db+".") {
				list = append(list, t)
			}
		}
		sort.Slice(list, func(i, j int) bool { return str(list[i], "Name") > str(list[j], "Name") }) // not the order the adapter returns
		items, next := page(list, str(in, "NextToken"))
		out := map[string]any{"TableList": items}
		if next != "" {
			out["NextToken"] = next
		}
		return out, nil
	case "CreatePartition", "UpdatePartition", "GetPartition", "GetPartitions":
		table := str(in, "TableName")
		t, ok := f.tables[db+"."+table]
		if !ok {
			return nil, &glueErr{"EntityNotFoundException", "Table " + table + " not found."}
		}
		keys, _ := t["PartitionKeys"].([]any)
		parts := f.parts[db+"."+table]
		if parts == nil {
			parts = map[string]map[string]any{}
			f.parts[db+"."+table] = parts
		}
		switch op {
		case "CreatePartition", "UpdatePartition":
			pi, _ := in["PartitionInput"].(map[string]any)
			vals, _ := pi["Values"].([]any)
			if len(vals) != len(keys) {
				return nil, &glueErr{"InvalidInputException", fmt.Sprintf("%d values for %d partition keys", len(vals), len(keys))}
			}
			k := valuesKey(vals)
			_, exists := parts[k]
			if op == "CreatePartition" && exists {
				return nil, &glueErr{"AlreadyExistsException", "Partition already exists."}
			}
			if op == "UpdatePartition" {
				if valuesKey(in["PartitionValueList"]) != k {
					return nil, &glueErr{"InvalidInputException", "PartitionValueList must name the partition"}
				}
				if !exists {
					return nil, &glueErr{"EntityNotFoundException", "Partition not found."}
				}
			}
			p := map[string]any{"DatabaseName": db, "TableName": table, "Values": vals, "StorageDescriptor": pi["StorageDescriptor"], "CreationTime": 1.767323045e9}
			parts[k] = p
			return map[string]any{}, nil
		case "GetPartition":
			p, ok := parts[valuesKey(in["PartitionValues"])]
			if !ok {
				return nil, &glueErr{"EntityNotFoundException", "Cannot find partition."}
			}
			return map[string]any{"Partition": p}, nil
		default:
			var list []map[string]any
			for _, p := range parts {
				list = append(list, p)
			}
			sort.Slice(list, func(i, j int) bool { return valuesKey(list[i]["Values"]) > valuesKey(list[j]["Values"]) })
			items, next := page(list, str(in, "NextToken"))
			out := map[string]any{"Partitions": items}
			if next != "" {
				out["NextToken"] = next
			}
			return out, nil
		}
	}
	return nil, &glueErr{"InvalidInputException", "operation " + op + " not in the fake"}
}

var dbSeq atomic.Int64

func TestContract(t *testing.T) {
	fake := newFakeGlue(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: fake}}
	srv.Start()
	defer srv.Close()
	cfg, err := awstest.Config(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := gluecatalog.NewClient(cfg)
	newDB := func(t *testing.T) string {
		name := fmt.Sprintf("silver_%d", dbSeq.Add(1))
		if _, err := c.CreateDatabase(context.Background(), &glue.CreateDatabaseInput{DatabaseInput: &types.DatabaseInput{Name: aws.String(name)}}); err != nil {
			t.Fatal(err)
		}
		return name
	}
	catalogtest.Run(t, func(t *testing.T) catalogtest.Harness {
		return catalogtest.Harness{Catalog: gluecatalog.New(c), Database: newDB(t), OtherDatabase: newDB(t)}
	})
	// Parquet table shape: what Athena needs to read silver.
	db := newDB(t)
	cat := gluecatalog.New(c)
	if err := cat.UpsertTable(context.Background(), catalog.Table{Database: db, Name: "t", Location: "s3://b/silver/t/",
		Columns: []catalog.Column{{Name: "a", Type: "string"}}, PartitionKeys: []catalog.Column{{Name: "dt", Type: "string"}}}); err != nil {
		t.Fatal(err)
	}
	raw := fake.tables[db+".t"]
	sd := raw["StorageDescriptor"].(map[string]any)
	serde := sd["SerdeInfo"].(map[string]any)
	if raw["TableType"] != "EXTERNAL_TABLE" || sd["InputFormat"] != gluecatalog.ParquetInputFormat ||
		serde["SerializationLibrary"] != gluecatalog.ParquetSerDe || raw["Parameters"].(map[string]any)["classification"] != "parquet" {
		t.Errorf("stored table %v", raw)
	}
	if fake.calls["GetTables"] == 0 || fake.calls["GetPartitions"] == 0 || fake.calls["UpdateTable"] == 0 || fake.calls["UpdatePartition"] == 0 {
		t.Errorf("calls %v: the suite should exercise listing, update of tables and of partitions", fake.calls)
	}
}
