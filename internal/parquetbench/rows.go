// Package parquetbench compares the three Go Parquet libraries the project
// could use for silver files (github.com/xitongsys/parquet-go,
// github.com/parquet-go/parquet-go and github.com/apache/arrow-go/v18) on
// the pipeline's own row shapes. Each library writes the same rows with the
// same row group policy and snappy compression, in its fastest idiomatic
// way. The figures and the decision are in docs/decisions.md.
//
// The package is a measuring instrument, not part of the pipeline: the
// transform's real writer is internal/silver.
package parquetbench

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Shipment is a silver `shipments` row: the record's fields, then the
// lineage columns. Times are microseconds since the Unix epoch, UTC. The
// struct tags are parquet-go's; the other libraries get their own schema
// (xitongsys: the xShipment struct, arrow-go: shipmentArrowSchema).
type Shipment struct {
	ShipmentID   string  `parquet:"shipment_id"`
	Origin       string  `parquet:"origin,dict"`
	Destination  string  `parquet:"destination,dict"`
	Carrier      string  `parquet:"carrier,dict"`
	WeightKg     float64 `parquet:"weight_kg"`
	EventTime    int64   `parquet:"event_time,timestamp(microsecond:utc)"`
	EventID      *string `parquet:"event_id,optional"`
	RecordType   string  `parquet:"record_type,dict"`
	SourceObject string  `parquet:"source_object,dict"`
	SourceETag   string  `parquet:"source_etag,dict"`
	SourceOffset int64   `parquet:"source_offset"`
	IngestedAt   int64   `parquet:"ingested_at,timestamp(microsecond:utc)"`
}

// InvoiceLine is a silver `invoice_lines` row (quantity is an INT64).
type InvoiceLine struct {
	InvoiceID    string  `parquet:"invoice_id"`
	SKU          string  `parquet:"sku,dict"`
	Quantity     int64   `parquet:"quantity"`
	UnitPrice    float64 `parquet:"unit_price"`
	LineTotal    float64 `parquet:"line_total"`
	EventTime    int64   `parquet:"event_time,timestamp(microsecond:utc)"`
	EventID      *string `parquet:"event_id,optional"`
	RecordType   string  `parquet:"record_type,dict"`
	SourceObject string  `parquet:"source_object,dict"`
	SourceETag   string  `parquet:"source_etag,dict"`
	SourceOffset int64   `parquet:"source_offset"`
	IngestedAt   int64   `parquet:"ingested_at,timestamp(microsecond:utc)"`
}

// Low-cardinality vocabularies, as in real traffic: tens of cities, a
// handful of carriers, a few thousand SKUs.
var (
	cities = []string{
		"Amsterdam", "Antwerp", "Athens", "Barcelona", "Berlin", "Bratislava", "Brussels", "Bucharest",
		"Budapest", "Copenhagen", "Dublin", "Frankfurt", "Gdansk", "Genoa", "Gothenburg", "Hamburg",
		"Helsinki", "Istanbul", "Lisbon", "Ljubljana", "London", "Lyon", "Madrid", "Marseille",
		"Milan", "Munich", "Naples", "Oslo", "Paris", "Porto", "Prague", "Riga",
		"Rotterdam", "Sofia", "Stockholm", "Tallinn", "Turin", "Valencia", "Vienna", "Vilnius",
		"Warsaw", "Zagreb", "Zurich", "Le Havre", "Felixstowe", "Piraeus", "Bremerhaven", "Trieste",
	}
	carriers = []string{"DHL", "UPS", "FedEx", "DB Schenker", "Kuehne+Nagel", "DSV", "GLS", "PostNL"}
)

// rowsPerObject is how many consecutive rows share one source object (one
// bronze file), which is what makes the lineage columns low-cardinality.
const rowsPerObject = 50_000

// Gen makes deterministic rows from a seed; the same seed and base time
// give the same rows, so every library writes identical data.
type Gen struct {
	rng    *rand.Rand
	base   int64 // event_time base, microseconds
	i      int64
	offset int64
	obj    string
	etag   string
	ingest int64
}

// NewGen returns a generator whose event times fall in the day after base.
func NewGen(seed uint64, base time.Time) *Gen {
	return &Gen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), base: base.UTC().UnixMicro()}
}

func (g *Gen) lineage(kind string, lineLen int64) (obj, etag string, off, ingested int64) {
	if g.i%rowsPerObject == 0 {
		part := g.i / rowsPerObject
		g.obj = fmt.Sprintf("s3://elt-bronze/%s/dt=2026-11-01/part-%05d.jsonl", kind, part)
		g.etag = fmt.Sprintf("%016x%016x", g.rng.Uint64(), g.rng.Uint64())
		g.ingest = g.base + 86_400_000_000 + part*1_000_000
		g.offset = 0
	}
	off = g.offset
	g.offset += lineLen
	g.i++
	return g.obj, g.etag, off, g.ingest
}

// eventID is present on nine rows in ten; absent ones are NULL in Parquet.
func (g *Gen) eventID() *string {
	if g.rng.IntN(10) == 0 {
		return nil
	}
	s := fmt.Sprintf("%016x%016x", g.rng.Uint64(), g.rng.Uint64())
	return &s
}

// Shipment fills r with the next shipments row.
func (g *Gen) Shipment(r *Shipment) {
	o := g.rng.IntN(len(cities))
	d := (o + 1 + g.rng.IntN(len(cities)-1)) % len(cities)
	*r = Shipment{
		ShipmentID:  fmt.Sprintf("SHP-%010d", g.rng.Int64N(10_000_000_000)),
		Origin:      cities[o],
		Destination: cities[d],
		Carrier:     carriers[g.rng.IntN(len(carriers))],
		WeightKg:    float64(g.rng.IntN(3_000_000)+10) / 100,
		EventTime:   g.base + g.rng.Int64N(86_400_000_000),
		EventID:     g.eventID(),
		RecordType:  "shipments",
	}
	r.SourceObject, r.SourceETag, r.SourceOffset, r.IngestedAt = g.lineage("shipments", 190)
}

// InvoiceLine fills r with the next invoice_lines row; about four lines
// share an invoice.
func (g *Gen) InvoiceLine(r *InvoiceLine) {
	q := int64(g.rng.IntN(50) + 1)
	price := float64(g.rng.IntN(100_000)+50) / 100
	*r = InvoiceLine{
		InvoiceID:  fmt.Sprintf("INV-2026-%08d", g.i/4),
		SKU:        fmt.Sprintf("SKU-%05d", g.rng.IntN(3000)),
		Quantity:   q,
		UnitPrice:  price,
		LineTotal:  float64(int64(float64(q)*price*100+0.5)) / 100,
		EventTime:  g.base + g.rng.Int64N(86_400_000_000),
		EventID:    g.eventID(),
		RecordType: "invoice_lines",
	}
	r.SourceObject, r.SourceETag, r.SourceOffset, r.IngestedAt = g.lineage("invoice_lines", 200)
}

// Shipments returns n generated shipments rows.
func Shipments(seed uint64, base time.Time, n int) []Shipment {
	g := NewGen(seed, base)
	rows := make([]Shipment, n)
	for i := range rows {
		g.Shipment(&rows[i])
	}
	return rows
}

// InvoiceLines returns n generated invoice_lines rows.
func InvoiceLines(seed uint64, base time.Time, n int) []InvoiceLine {
	g := NewGen(seed, base)
	rows := make([]InvoiceLine, n)
	for i := range rows {
		g.InvoiceLine(&rows[i])
	}
	return rows
}
