package jsonpath

import "testing"

func BenchmarkEvalDefinite(b *testing.B) {
	p := MustParse("$.store.book[2].author")
	doc := decode(b, storeDoc)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Eval(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvalFilter(b *testing.B) {
	p := MustParse("$.store.book[?(@.price < 10 && @.category == 'fiction')].title")
	doc := decode(b, storeDoc)
	b.ReportAllocs()
	for b.Loop() {
		p.Eval(doc)
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("$.store.book[?(@.price < 10 && @.category == 'fiction')].title"); err != nil {
			b.Fatal(err)
		}
	}
}
