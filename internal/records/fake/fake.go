// Package fake generates realistic bronze events for the record types, with
// a chosen share of bad input of every kind, deterministically from a seed.
// `elt gen`, the benchmarks, the demo and tests use it.
package fake

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// BadKind is a kind of bad input the generator can produce; each maps to
// the quarantine reason the pipeline must give it.
type BadKind string

const (
	Malformed    BadKind = "malformed_json"
	NotObject    BadKind = "not_object"
	UnknownType  BadKind = "unknown_record_type"
	WrongType    BadKind = "wrong_type"
	MissingField BadKind = "missing_field"
	Oversized    BadKind = "oversized"
)

// Kinds lists every bad kind in a fixed order.
var Kinds = []BadKind{Malformed, NotObject, UnknownType, WrongType, MissingField, Oversized}

// Types are the record types the generator knows.
var Types = []string{"shipments", "tracking_events", "invoice_lines"}

// Options shape the generated events.
type Options struct {
	// Types to generate, chosen at random per record (default: shipments).
	Types []string
	// BadRate is the share of bad inputs in [0, 1].
	BadRate float64
	// Kinds restricts the bad kinds (default: all). The first bad inputs
	// cycle through every kind so even a small file has each.
	Kinds []BadKind
	// Start and Days bound event_time: [Start, Start+Days).
	Start time.Time
	Days  int
	// OversizedBytes is the length of an oversized line (default 1 MiB + 1 KiB).
	OversizedBytes int
	// ViolationRate is the share of good records in [0, 1] that carry one
	// planted data-quality violation: they pass the record schema (so
	// transform lands them in silver) but break the type's expectation
	// suite (tasks/quality/suites). The first ones cycle through the type's
	// violations. Zero draws no random numbers, so seeds keep their output.
	ViolationRate float64
}

// Violation is a kind of planted data-quality violation.
type Violation string

const (
	CarrierOutsideSet   Violation = "carrier_outside_set"   // shipments: carrier not a contracted one
	WeightBeyondBound   Violation = "weight_beyond_bound"   // shipments: weight_kg above 5 t
	DuplicateShipmentID Violation = "duplicate_shipment_id" // shipments: a shipment_id booked before
	UnknownStatus       Violation = "unknown_status"        // tracking_events: status outside the set
	QuantityBeyondBound Violation = "quantity_beyond_bound" // invoice_lines: |quantity| above 1000
	MalformedSKU        Violation = "malformed_sku"         // invoice_lines: sku not SKU-A0000
)

// Violations lists the planted violations per record type.
var Violations = map[string][]Violation{
	"shipments":       {CarrierOutsideSet, WeightBeyondBound, DuplicateShipmentID},
	"tracking_events": {UnknownStatus},
	"invoice_lines":   {QuantityBeyondBound, MalformedSKU},
}

// Generator produces events one at a time.
type Generator struct {
	opts        Options
	rng         *rand.Rand
	n           int
	nbad        int
	buf         []byte
	ships       []string // recent shipment ids, so tracking events refer to them
	nviol       int
	byViolation map[Violation]int
	// booked are recent shipment ids of records that land in silver (not
	// of bad input), which a duplicate_shipment_id violation repeats.
	booked  []string
	nbooked int
	inBad   bool
}

// New returns a generator seeded with seed.
func New(seed uint64, opts Options) (*Generator, error) {
	if len(opts.Types) == 0 {
		opts.Types = []string{"shipments"}
	}
	for _, t := range opts.Types {
		if !known(t) {
			return nil, fmt.Errorf("fake: unknown record type %q (known: %s)", t, strings.Join(Types, ", "))
		}
	}
	if opts.BadRate < 0 || opts.BadRate > 1 || math.IsNaN(opts.BadRate) {
		return nil, fmt.Errorf("fake: bad rate %v outside [0, 1]", opts.BadRate)
	}
	if len(opts.Kinds) == 0 {
		opts.Kinds = Kinds
	}
	if opts.Start.IsZero() {
		opts.Start = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	}
	if opts.Days <= 0 {
		opts.Days = 7
	}
	if opts.ViolationRate < 0 || opts.ViolationRate > 1 || math.IsNaN(opts.ViolationRate) {
		return nil, fmt.Errorf("fake: violation rate %v outside [0, 1]", opts.ViolationRate)
	}
	if opts.OversizedBytes <= 0 {
		opts.OversizedBytes = 1<<20 + 1<<10
	}
	return &Generator{opts: opts, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), byViolation: map[Violation]int{}}, nil
}

func known(t string) bool {
	for _, k := range Types {
		if k == t {
			return true
		}
	}
	return false
}

var (
	cities   = []string{"Lyon", "Oslo", "Rotterdam", "Hamburg", "Milan", "Madrid", "Warsaw", "Dublin", "Lisbon", "Vienna", "Prague", "Zurich", "Antwerp", "Gdansk", "Porto", "Marseille"}
	carriers = []string{"DHL", "UPS", "FedEx", "DPD", "GLS", "PostNL", "Kuehne+Nagel", "DB Schenker"}
	statuses = []string{"label_created", "picked_up", "in_transit", "arrived_at_hub", "out_for_delivery", "delivered", "exception"}
	offsets  = []string{"Z", "Z", "Z", "+01:00", "+02:00", "-05:00", "+05:30"}
)

// Next returns the next input line (without a newline; valid until the next
// call), whether it is a good record, and the bad kind when it is not.
func (g *Generator) Next() ([]byte, bool, BadKind) {
	g.n++
	typ := g.opts.Types[g.rng.IntN(len(g.opts.Types))]
	if g.opts.BadRate > 0 && g.rng.Float64() < g.opts.BadRate {
		kind := g.opts.Kinds[g.nbad%len(g.opts.Kinds)]
		if g.nbad >= len(g.opts.Kinds) {
			kind = g.pickKind()
		}
		g.nbad++
		return g.bad(typ, kind), false, kind
	}
	if g.opts.ViolationRate > 0 && g.rng.Float64() < g.opts.ViolationRate {
		return g.violation(typ), true, ""
	}
	return g.good(typ, "", ""), true, ""
}

// Violations returns how many good records carried a planted violation.
func (g *Generator) Violations() int { return g.nviol }

// ViolationCounts returns the planted violations by kind.
func (g *Generator) ViolationCounts() map[Violation]int {
	out := make(map[Violation]int, len(g.byViolation))
	for k, v := range g.byViolation {
		out[k] = v
	}
	return out
}

// violation renders a valid record that breaks the type's suite.
func (g *Generator) violation(typ string) []byte {
	kinds := Violations[typ]
	v := kinds[g.nviol%len(kinds)]
	if g.nviol >= len(kinds) {
		v = kinds[g.rng.IntN(len(kinds))]
	}
	if v == DuplicateShipmentID && len(g.booked) == 0 {
		v = CarrierOutsideSet // nothing booked yet to repeat
	}
	g.nviol++
	g.byViolation[v]++
	switch v {
	case CarrierOutsideSet:
		return g.good(typ, "carrier", `"Pigeon Express"`)
	case WeightBeyondBound:
		return g.good(typ, "weight_kg", fmt.Sprint(5001+g.rng.IntN(50000)))
	case DuplicateShipmentID:
		id := g.booked[g.rng.IntN(len(g.booked))]
		return g.good(typ, "shipment_id", `"`+id+`"`)
	case UnknownStatus:
		return g.good(typ, "status", `"teleported"`)
	case QuantityBeyondBound:
		return g.good(typ, "quantity", fmt.Sprint(1001+g.rng.IntN(10000)))
	case MalformedSKU:
		return g.good(typ, "sku", `"sku-unknown"`)
	}
	panic("fake: unknown violation " + string(v))
}

// pickKind chooses a bad kind, making oversized lines rare (they are big).
func (g *Generator) pickKind() BadKind {
	for {
		k := g.opts.Kinds[g.rng.IntN(len(g.opts.Kinds))]
		if k != Oversized || len(g.opts.Kinds) == 1 || g.rng.IntN(50) == 0 {
			return k
		}
	}
}

func (g *Generator) eventTime() string {
	span := int64(g.opts.Days) * 86400 * 1000
	t := g.opts.Start.Add(time.Duration(g.rng.Int64N(span)) * time.Millisecond).UTC()
	off := offsets[g.rng.IntN(len(offsets))]
	if off != "Z" {
		var h, m int
		fmt.Sscanf(off[1:], "%d:%d", &h, &m)
		d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
		if off[0] == '-' {
			d = -d
		}
		t = t.In(time.FixedZone("", int(d.Seconds())))
	}
	layout := "2006-01-02T15:04:05"
	if g.rng.IntN(3) == 0 {
		layout += ".000"
	}
	if off == "Z" {
		return t.Format(layout) + "Z"
	}
	return t.Format(layout + "-07:00")
}

func (g *Generator) id(prefix string) string {
	return fmt.Sprintf("%s-%012x", prefix, g.rng.Uint64()&0xffffffffffff)
}

// good renders a valid record; replace/omit make it a bad one on purpose.
func (g *Generator) good(typ, breakField, breakValue string) []byte {
	b := g.buf[:0]
	b = append(b, `{"record_type":"`...)
	b = append(b, typ...)
	b = append(b, `","event_id":"`...)
	b = append(b, g.id("evt")...)
	b = append(b, '"')
	field := func(name, jsonValue string) {
		if name == breakField {
			if breakValue == "" {
				return // missing
			}
			jsonValue = breakValue
		}
		b = append(b, `,"`...)
		b = append(b, name...)
		b = append(b, `":`...)
		b = append(b, jsonValue...)
	}
	q := func(s string) string { return `"` + s + `"` }
	switch typ {
	case "shipments":
		sid := g.id("SHP")
		g.remember(sid)
		if !g.inBad && breakField != "shipment_id" {
			g.book(sid)
		}
		o := g.rng.IntN(len(cities))
		d := (o + 1 + g.rng.IntN(len(cities)-1)) % len(cities)
		w := math.Round(math.Exp(g.rng.NormFloat64()*1.2+2)*100) / 100
		field("shipment_id", q(sid))
		field("origin", q(cities[o]))
		field("destination", q(cities[d]))
		field("carrier", q(carriers[g.rng.IntN(len(carriers))]))
		field("weight_kg", fmt.Sprint(w))
	case "tracking_events":
		field("shipment_id", q(g.shipment()))
		field("status", q(statuses[g.rng.IntN(len(statuses))]))
		field("city", q(cities[g.rng.IntN(len(cities))]))
	case "invoice_lines":
		qty := 1 + g.rng.IntN(20)
		if g.rng.IntN(50) == 0 {
			qty = -qty // a credit line
		}
		price := math.Round((0.5+g.rng.Float64()*200)*100) / 100
		field("invoice_id", q(fmt.Sprintf("INV-%07d", g.rng.IntN(10_000_000))))
		field("sku", q(fmt.Sprintf("SKU-%c%04d", 'A'+rune(g.rng.IntN(26)), g.rng.IntN(10000))))
		field("quantity", fmt.Sprint(qty))
		field("unit_price", fmt.Sprint(price))
		field("line_total", fmt.Sprint(math.Round(float64(qty)*price*100)/100))
	}
	field("event_time", q(g.eventTime()))
	b = append(b, '}')
	g.buf = b
	return b
}

// book keeps the last 1024 landed shipment ids (no random draws, so the
// generated stream does not change).
func (g *Generator) book(id string) {
	if len(g.booked) < 1024 {
		g.booked = append(g.booked, id)
	} else {
		g.booked[g.nbooked%1024] = id
	}
	g.nbooked++
}

func (g *Generator) remember(id string) {
	if len(g.ships) < 1024 {
		g.ships = append(g.ships, id)
	} else {
		g.ships[g.rng.IntN(len(g.ships))] = id
	}
}

func (g *Generator) shipment() string {
	if len(g.ships) == 0 || g.rng.IntN(4) == 0 {
		return g.id("SHP")
	}
	return g.ships[g.rng.IntN(len(g.ships))]
}

// wrong-type and missing-field targets per type.
var (
	wrongType = map[string][2]string{
		"shipments":       {"weight_kg", `"12.5"`},
		"tracking_events": {"status", `7`},
		"invoice_lines":   {"quantity", `"3"`},
	}
	missing = map[string]string{"shipments": "carrier", "tracking_events": "city", "invoice_lines": "sku"}
)

func (g *Generator) bad(typ string, kind BadKind) []byte {
	g.inBad = true
	defer func() { g.inBad = false }()
	switch kind {
	case Malformed:
		rec := g.good(typ, "", "")
		return rec[:len(rec)/2] // cut in the middle
	case NotObject:
		g.buf = append(g.buf[:0], `["not","an","object",42]`...)
		return g.buf
	case UnknownType:
		rec := g.good(typ, "", "")
		s := strings.Replace(string(rec), `"record_type":"`+typ+`"`, `"record_type":"parcels"`, 1)
		g.buf = append(g.buf[:0], s...)
		return g.buf
	case WrongType:
		w := wrongType[typ]
		return g.good(typ, w[0], w[1])
	case MissingField:
		return g.good(typ, missing[typ], "")
	case Oversized:
		rec := g.good(typ, "", "")
		pad := g.opts.OversizedBytes - len(rec)
		s := string(rec[:len(rec)-1]) + `,"padding":"` + strings.Repeat("x", max(pad, 0)) + `"}`
		g.buf = append(g.buf[:0], s...)
		return g.buf
	}
	panic("fake: unknown bad kind " + string(kind))
}
