package records

import "time"

// Envelope is the part every record type shares. A record type embeds it
// (see Shipment); the registry refuses types that do not.
type Envelope struct {
	// RecordType names the registered type ("shipments", ...).
	RecordType string `json:"record_type" jsonschema:"description=Registered record type name"`
	// EventID, when present, identifies the event; silver deduplicates by it.
	EventID string `json:"event_id,omitempty" jsonschema:"nullable,description=Optional unique event id (deduplication key); null means absent"`
	// EventTime is RFC 3339 with an offset (fractional seconds allowed). It is
	// normalised to UTC; its UTC date is the partition dt.
	EventTime time.Time `json:"event_time" jsonschema:"description=RFC 3339 timestamp with offset; normalised to UTC"`
}

// Fields tagged parquet:"dict" repeat a lot (places, carriers, statuses,
// SKUs): silver dictionary-encodes them (about 15% smaller files at the same
// CPU, docs/decisions.md). Ids are not tagged.

// Shipment is one shipment booked with a carrier.
type Shipment struct {
	Envelope
	ShipmentID  string  `json:"shipment_id"`
	Origin      string  `json:"origin" parquet:"dict"`
	Destination string  `json:"destination" parquet:"dict"`
	Carrier     string  `json:"carrier" parquet:"dict"`
	WeightKg    float64 `json:"weight_kg" jsonschema:"minimum=0"`
}

// TrackingEvent is one scan of a shipment along its route.
type TrackingEvent struct {
	Envelope
	ShipmentID string `json:"shipment_id"`
	Status     string `json:"status" parquet:"dict"`
	City       string `json:"city" parquet:"dict"`
}

// InvoiceLine is one line of an invoice. Quantity may be negative (credit
// notes and returns), so it has no minimum.
type InvoiceLine struct {
	Envelope
	InvoiceID string  `json:"invoice_id"`
	SKU       string  `json:"sku" parquet:"dict"`
	Quantity  int64   `json:"quantity"`
	UnitPrice float64 `json:"unit_price"`
	LineTotal float64 `json:"line_total"`
}

// Default returns the registry of the pipeline's record types. Adding a type
// is one Go type above plus one line here.
func Default() *Registry {
	r := New()
	MustRegister[Shipment](r, "shipments")
	MustRegister[TrackingEvent](r, "tracking_events")
	MustRegister[InvoiceLine](r, "invoice_lines")
	return r
}
