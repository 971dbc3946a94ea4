package intrinsic

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/serverless-elt/elt/asl/jsonpath"
)

func genItems() *rapid.Generator[[]any] {
	item := rapid.OneOf(
		rapid.Map(rapid.IntRange(-3, 3), func(n int) any { return json.Number(strconv.Itoa(n)) }),
		rapid.Map(rapid.SampledFrom([]string{"a", "b", ""}), func(s string) any { return s }),
		rapid.Just[any](nil),
		rapid.Just[any](true),
	)
	return rapid.SliceOfN(item, 0, 30)
}

func eval(t *rapid.T, expr string, input any) any {
	v, err := EvalString(expr, Env{Input: input})
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// Partitioning then concatenating the chunks gives the array back; every chunk but the last
// has the chunk size.
func TestPropertyArrayPartition(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		items := genItems().Draw(t, "items")
		size := rapid.IntRange(1, 7).Draw(t, "size")
		chunks := eval(t, "States.ArrayPartition($.a, "+strconv.Itoa(size)+")", map[string]any{"a": items}).([]any)
		var flat []any
		for i, c := range chunks {
			c := c.([]any)
			if len(c) == 0 || len(c) > size || (i < len(chunks)-1 && len(c) != size) {
				t.Fatalf("chunk %d has %d items (size %d)", i, len(c), size)
			}
			flat = append(flat, c...)
		}
		if !jsonpath.Equal(append([]any{}, flat...), append([]any{}, items...)) {
			t.Fatalf("concatenated chunks %v != %v", flat, items)
		}
	})
}

// ArrayUnique is idempotent, keeps first occurrences in order and leaves no duplicates;
// ArrayContains agrees with it.
func TestPropertyArrayUnique(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		items := genItems().Draw(t, "items")
		u := eval(t, "States.ArrayUnique($.a)", map[string]any{"a": items}).([]any)
		again := eval(t, "States.ArrayUnique($.a)", map[string]any{"a": u}).([]any)
		if !jsonpath.Equal(u, again) {
			t.Fatalf("not idempotent: %v then %v", u, again)
		}
		j := 0
		for _, it := range items {
			if j < len(u) && jsonpath.Equal(it, u[j]) {
				j++
			}
			if eval(t, "States.ArrayContains($.u, $.v)", map[string]any{"u": u, "v": it}) != true {
				t.Fatalf("%v missing from %v", it, u)
			}
		}
		if j != len(u) {
			t.Fatalf("%v is not the first occurrences of %v in order", u, items)
		}
	})
}

// StringSplit never returns empty strings or delimiter characters, and joining its parts
// gives the input without its delimiter characters.
func TestPropertyStringSplit(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.StringOfN(rapid.SampledFrom([]rune("ab,.+ é")), 0, 20, -1).Draw(t, "s")
		d := rapid.StringOfN(rapid.SampledFrom([]rune(",.+ é")), 0, 3, -1).Draw(t, "d")
		parts := eval(t, "States.StringSplit($.s, $.d)", map[string]any{"s": s, "d": d}).([]any)
		var b strings.Builder
		for _, p := range parts {
			p := p.(string)
			if p == "" || (d != "" && strings.ContainsAny(p, d)) {
				t.Fatalf("bad part %q of %q split on %q", p, s, d)
			}
			b.WriteString(p)
		}
		want := strings.Map(func(r rune) rune {
			if strings.ContainsRune(d, r) {
				return -1
			}
			return r
		}, s)
		if b.String() != want {
			t.Fatalf("parts %q join to %q, want %q", parts, b.String(), want)
		}
	})
}

// Base64Decode inverts Base64Encode, and StringToJson inverts JsonToString.
func TestPropertyRoundTrips(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.StringN(0, 50, -1).Draw(t, "s")
		if got := eval(t, "States.Base64Decode(States.Base64Encode($.s))", map[string]any{"s": s}); got != s {
			t.Fatalf("base64 round trip of %q gave %q", s, got)
		}
		v := map[string]any{"s": s, "n": json.Number("12345678901234567890"), "a": []any{true, nil, "<&>"}}
		if got := eval(t, "States.StringToJson(States.JsonToString($))", v); !jsonpath.Equal(got, v) {
			t.Fatalf("json round trip of %v gave %v", v, got)
		}
	})
}
