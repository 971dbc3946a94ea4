package jsonpath

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

func decode(t testing.TB, s string) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func encode(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return string(b)
}

// The reference-path example of
// https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html
const awsPathsDoc = `{"foo": 123, "bar": ["a", "b", "c"], "car": {"cdr": true}}`

const storeDoc = `{"store": {"book": [
  {"category": "reference", "author": "Nigel Rees", "title": "Sayings of the Century", "price": 8.95},
  {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword of Honour", "price": 12.99},
  {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553-21311-3", "price": 8.99},
  {"category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord of the Rings", "isbn": "0-395-19395-8", "price": 22.99}],
  "bicycle": {"color": "red", "price": 19.95}},
 "detail-type": "Object Created", "a b": {"c'd": 1}, "n": [0, 1, 2, 3, 4, 5],
 "flags": [{"k": true, "v": 1}, {"k": false, "v": 2}, {"v": 3}, {"k": null, "v": 4}]}`

func TestEval(t *testing.T) {
	tests := []struct {
		name, doc, path, want string
	}{
		{"aws paths page foo", awsPathsDoc, "$.foo", `123`},
		{"aws paths page bar", awsPathsDoc, "$.bar", `["a","b","c"]`},
		{"aws paths page car.cdr", awsPathsDoc, "$.car.cdr", `true`},
		{"root", awsPathsDoc, "$", awsPathsDoc},
		{"bracket single quote", storeDoc, "$['store']['bicycle']['color']", `"red"`},
		{"bracket double quote", storeDoc, `$["store"]["bicycle"].color`, `"red"`},
		{"dot then bracket (aws docs $.abc.['def ghi'])", storeDoc, "$.['a b']['c\\'d']", `1`},
		{"hyphen in dot notation", storeDoc, "$.detail-type", `"Object Created"`},
		{"index", storeDoc, "$.store.book[2].author", `"Herman Melville"`},
		{"negative index", storeDoc, "$.n[-1]", `5`},
		{"wildcard array", storeDoc, "$.store.book[*].price", `[8.95,12.99,8.99,22.99]`},
		{"wildcard object sorted keys", storeDoc, "$.store.bicycle.*", `["red",19.95]`},
		{"flatten (aws docs $[*][*])", `[[1,2],[3],[]]`, "$[*][*]", `[1,2,3]`},
		{"slice", storeDoc, "$.n[1:3]", `[1,2]`},
		{"slice open end", storeDoc, "$.n[4:]", `[4,5]`},
		{"slice negative start", storeDoc, "$.n[-2:]", `[4,5]`},
		{"slice open start", storeDoc, "$.n[:2]", `[0,1]`},
		{"slice step", storeDoc, "$.n[0:6:2]", `[0,2,4]`},
		{"slice negative step", storeDoc, "$.n[::-2]", `[5,3,1]`},
		{"slice beyond end", storeDoc, "$.n[4:100]", `[4,5]`},
		{"union indexes", storeDoc, "$.n[0,2,-1]", `[0,2,5]`},
		{"union names", storeDoc, "$.store.bicycle['color','price']", `["red",19.95]`},
		{"deep scan", storeDoc, "$..author", `["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]`},
		{"deep scan price order", storeDoc, "$.store..price", `[19.95,8.95,12.99,8.99,22.99]`},
		{"deep scan index", storeDoc, "$..book[0].title", `["Sayings of the Century"]`},
		{"filter lt", storeDoc, "$.store.book[?(@.price < 10)].title", `["Sayings of the Century","Moby Dick"]`},
		{"filter exists", storeDoc, "$.store.book[?(@.isbn)].title", `["Moby Dick","The Lord of the Rings"]`},
		{"filter string eq", storeDoc, "$.store.book[?(@.category == 'reference')].author", `["Nigel Rees"]`},
		{"filter double quoted string", storeDoc, `$.store.book[?(@.category != "fiction")].price`, `[8.95]`},
		{"filter ge", storeDoc, "$.store.book[?(@.price >= 12.99)].price", `[12.99,22.99]`},
		{"filter gt le and", storeDoc, "$.store.book[?(@.price > 8.95 && @.price <= 12.99)].price", `[12.99,8.99]`},
		{"filter or", storeDoc, "$.store.book[?(@.price < 9 || @.author == 'J. R. R. Tolkien')].price", `[8.95,8.99,22.99]`},
		{"filter bool", storeDoc, "$.flags[?(@.k == true)].v", `[1]`},
		{"filter false", storeDoc, "$.flags[?(@.k == false)].v", `[2]`},
		{"filter null", storeDoc, "$.flags[?(@.k == null)].v", `[4]`},
		{"filter exists includes null", storeDoc, "$.flags[?(@.k)].v", `[1,2,4]`},
		{"filter missing is != anything", storeDoc, "$.flags[?(@.k != true)].v", `[2,3,4]`},
		{"filter not", storeDoc, "$.flags[?(!@.k)].v", `[3]`},
		{"filter parens", storeDoc, "$.flags[?((@.v == 1 || @.v == 2) && @.k == false)].v", `[2]`},
		{"filter against root", storeDoc, "$.store.book[?(@.price > $.store.bicycle.price)].title", `["The Lord of the Rings"]`},
		{"filter numbers exactly", `{"a":[{"n":1},{"n":1.0},{"n":10e-1},{"n":2}]}`, "$.a[?(@.n == 1)].n", `[1,1.0,10e-1]`},
		{"filter exact beyond float precision", `{"a":[{"n":9007199254740993},{"n":9007199254740992},{"n":0.1000000000000000001}]}`, "$.a[?(@.n > 9007199254740992)].n", `[9007199254740993]`},
		{"filter exact small decimals", `{"a":[{"n":0.1000000000000000001},{"n":0.1}]}`, "$.a[?(@.n > 0.1)].n", `[0.1000000000000000001]`},
		{"filter string order", `{"a":[{"s":"a"},{"s":"b"},{"s":"c"}]}`, "$.a[?(@.s > 'a')].s", `["b","c"]`},
		{"filter type mismatch is false", `{"a":[{"s":"1"},{"s":1}]}`, "$.a[?(@.s < 5)].s", `[1]`},
		{"filter on object tests the object", storeDoc, "$.store[?(@.bicycle)].bicycle.color", `["red"]`},
		{"deep scan filter matches objects once", storeDoc, "$..[?(@.price < 9)].title", `["Sayings of the Century","Moby Dick"]`},
		{"deep scan wildcard excludes root", `{"a":{"b":1},"c":[2]}`, "$..*", `[{"b":1},[2],1,2]`},
		{"indefinite no match is empty", storeDoc, "$.missing[*]", `[]`},
		{"context path", `{"Execution":{"Id":"arn:x"}}`, "$$.Execution.Id", `"arn:x"`},
		{"spaces in brackets", storeDoc, "$.n[ 1 : 3 ]", `[1,2]`},
		{"big integer exact", `{"a":12345678901234567890123}`, "$.a", `12345678901234567890123`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.path)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.path, err)
			}
			got, err := p.Eval(decode(t, tc.doc))
			if err != nil {
				t.Fatalf("Eval(%q): %v", tc.path, err)
			}
			if g, w := encode(t, got), encode(t, decode(t, tc.want)); g != w {
				t.Fatalf("Eval(%q) = %s, want %s", tc.path, g, w)
			}
		})
	}
}

func TestEvalNoMatch(t *testing.T) {
	for _, path := range []string{"$.nope", "$.foo.bar", "$.bar[3]", "$.bar[-4]", "$.car[0]", "$.bar.x", "$$.Task.Token"} {
		t.Run(path, func(t *testing.T) {
			_, err := MustParse(path).Eval(decode(t, awsPathsDoc))
			if !errors.Is(err, ErrNoMatch) {
				t.Fatalf("Eval(%q) error = %v, want ErrNoMatch", path, err)
			}
			var nm *NoMatchError
			if !errors.As(err, &nm) || nm.Path != path {
				t.Fatalf("error %v does not name the path", err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		expr   string
		offset int
	}{
		{"", 0},
		{"foo", 0},
		{"$.", 2},
		{"$..", 3},
		{"$foo", 1},
		{"$.a[", 3},
		{"$.a[1", 3},
		{"$.a['b", 4},
		{"$.a[?(@.b <)]", 11},
		{"$.a[?(@.b < 1]", 13},
		{"$.a[?(1)]", 6},
		{"$.a[::0]", 6},
		{"$.a[x]", 4},
		{"$.a b", 3},
		{"$.a[-]", 4},
		{"$.a[1,]", 6},
		{"$.a]", 3},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := Parse(tc.expr)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error = %v, want *SyntaxError", tc.expr, err)
			}
			if se.Offset != tc.offset {
				t.Fatalf("Parse(%q) offset = %d, want %d (%v)", tc.expr, se.Offset, tc.offset, err)
			}
		})
	}
}

func TestReferencePaths(t *testing.T) {
	ok := []string{"$", "$.a", "$.a.b[0]", "$['a b'].c", "$$.Execution.Input", "$.detail-type", "$.a[10].b"}
	for _, s := range ok {
		if !IsReferencePath(s) {
			t.Errorf("IsReferencePath(%q) = false, want true", s)
		}
	}
	bad := map[string]int{"$.a[*]": 3, "$..a": 1, "$.a[1:2]": 3, "$.a[?(@.b)]": 3, "$.a.*": 3, "$.a[-1]": 3, "$.a[0,1]": 3, "a": 0}
	for s, off := range bad {
		_, err := ParseReference(s)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Offset != off {
			t.Errorf("ParseReference(%q) = %v, want SyntaxError at %d", s, err, off)
		}
	}
	if !IsContextPath("$$.Map.Item.Value") || IsContextPath("$.x") {
		t.Error("IsContextPath wrong")
	}
}

func TestSet(t *testing.T) {
	tests := []struct {
		name, doc, path, value, want string
	}{
		// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html
		{"aws docs: result into input", `{"comment":"This is a test of the input and output of a Task state.","details":"Default example","who":"AWS Step Functions"}`,
			"$.taskresult", `"Hello, AWS Step Functions!"`,
			`{"comment":"This is a test of the input and output of a Task state.","details":"Default example","taskresult":"Hello, AWS Step Functions!","who":"AWS Step Functions"}`},
		{"aws docs: $ replaces input", `{"a":1}`, "$", `{"b":2}`, `{"b":2}`},
		{"creates intermediate objects", `{"a":1}`, "$.x.y.z", `true`, `{"a":1,"x":{"y":{"z":true}}}`},
		{"replaces existing", `{"a":{"b":1,"c":2}}`, "$.a.b", `[1]`, `{"a":{"b":[1],"c":2}}`},
		{"into array element", `{"a":[{"x":1},{"x":2}]}`, "$.a[1].y", `3`, `{"a":[{"x":1},{"x":2,"y":3}]}`},
		{"replace array element", `{"a":[1,2]}`, "$.a[0]", `9`, `{"a":[9,2]}`},
		{"bracket names", `{}`, "$['a b']['c']", `1`, `{"a b":{"c":1}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := decode(t, tc.doc)
			before := encode(t, doc)
			got, err := Set(doc, mustRef(t, tc.path), decode(t, tc.value))
			if err != nil {
				t.Fatalf("Set: %v", err)
			}
			if g, w := encode(t, got), encode(t, decode(t, tc.want)); g != w {
				t.Fatalf("Set = %s, want %s", g, w)
			}
			if after := encode(t, doc); after != before {
				t.Fatalf("Set mutated its input: %s -> %s", before, after)
			}
		})
	}
}

func TestSetErrors(t *testing.T) {
	tests := []struct{ name, doc, path string }{
		{"string in the way", `{"a":"s"}`, "$.a.b"},
		{"number in the way", `{"a":1}`, "$.a.b"},
		{"null in the way", `{"a":null}`, "$.a.b"},
		{"array where field named", `{"a":[1]}`, "$.a.b"},
		{"index out of range", `{"a":[1]}`, "$.a[1]"},
		{"index into missing", `{}`, "$.a[0]"},
		{"non-object input", `"text"`, "$.a"},
		{"context", `{}`, "$$.a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Set(decode(t, tc.doc), MustParse(tc.path), "v")
			if !errors.Is(err, ErrCannotSet) {
				t.Fatalf("Set error = %v, want ErrCannotSet", err)
			}
		})
	}
	if _, err := Set(map[string]any{}, MustParse("$.a[*]"), 1); !errors.Is(err, ErrCannotSet) {
		t.Fatalf("Set with a non-reference path: %v", err)
	}
}

func mustRef(t *testing.T, s string) *Path {
	t.Helper()
	p, err := ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestJoinRoundTrip(t *testing.T) {
	s := Join("$", "a", 0, "b c", "it's", "x.y", "1st")
	p, err := ParseReference(s)
	if err != nil {
		t.Fatalf("ParseReference(%q): %v", s, err)
	}
	doc, err := Set(map[string]any{}, p, "v")
	if err == nil {
		t.Fatalf("Set through a missing array index should fail, got %v", doc)
	}
	s = Join("$", "a", "b c", "it's", "x.y", "1st")
	doc, err = Set(map[string]any{}, MustParse(s), "v")
	if err != nil {
		t.Fatal(err)
	}
	if got := encode(t, doc); got != `{"a":{"b c":{"it's":{"x.y":{"1st":"v"}}}}}` {
		t.Fatalf("Join path %s set %s", s, got)
	}
}

func TestParts(t *testing.T) {
	got, ok := MustParse("$$.Map.Item['Value'][0]").Parts()
	if !ok || encode(t, got) != `["Map","Item","Value",0]` {
		t.Fatalf("Parts = %v, %v", got, ok)
	}
	if _, ok := MustParse("$.a[*]").Parts(); ok {
		t.Fatal("Parts of an indefinite path succeeded")
	}
}
