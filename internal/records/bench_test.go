package records

import "testing"

// BenchmarkParse: one shipment line into a typed record.
func BenchmarkParse(b *testing.B) {
	p := Default().NewParser()
	line := []byte(shipOK)
	var rec Record
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Parse(line, &rec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTime(b *testing.B) {
	for b.Loop() {
		if _, err := ParseTime("2024-05-01T23:30:00.123-02:00"); err != nil {
			b.Fatal(err)
		}
	}
}
