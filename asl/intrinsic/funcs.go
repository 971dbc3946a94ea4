package intrinsic

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/serverless-elt/elt/asl/jsonpath"
)

// Func implements one intrinsic function. args are the evaluated arguments (literals,
// path values, nested results), already checked against MinArgs/MaxArgs.
type Func func(env Env, call *Call, args []any) (any, error)

// Spec describes one intrinsic function: its accepted argument counts and implementation.
type Spec struct {
	Name    string
	MinArgs int
	MaxArgs int // -1: any number
	Impl    Func
}

func (s Spec) arity() string {
	switch {
	case s.MaxArgs < 0:
		return fmt.Sprintf("at least %d arguments", s.MinArgs)
	case s.MinArgs == s.MaxArgs:
		if s.MinArgs == 1 {
			return "exactly 1 argument"
		}
		return fmt.Sprintf("exactly %d arguments", s.MinArgs)
	}
	return fmt.Sprintf("%d to %d arguments", s.MinArgs, s.MaxArgs)
}

// Limits AWS documents for the intrinsic functions.
const (
	MaxArrayRange   = 1000  // States.ArrayRange result items
	MaxBase64Chars  = 10000 // States.Base64Encode / Base64Decode input characters
	MaxHashChars    = 10000 // States.Hash input characters
	minMathAddValue = -2147483648
	maxMathAddValue = 2147483647
)

// specs is the one table of intrinsic functions, shared by the validator (names, arity) and
// the engine (implementations). It is read-only.
var specs = map[string]Spec{
	"States.Format":         {MinArgs: 1, MaxArgs: -1, Impl: format},
	"States.StringToJson":   {MinArgs: 1, MaxArgs: 1, Impl: stringToJSON},
	"States.JsonToString":   {MinArgs: 1, MaxArgs: 1, Impl: jsonToString},
	"States.Array":          {MinArgs: 0, MaxArgs: -1, Impl: array},
	"States.ArrayPartition": {MinArgs: 2, MaxArgs: 2, Impl: arrayPartition},
	"States.ArrayContains":  {MinArgs: 2, MaxArgs: 2, Impl: arrayContains},
	"States.ArrayRange":     {MinArgs: 3, MaxArgs: 3, Impl: arrayRange},
	"States.ArrayGetItem":   {MinArgs: 2, MaxArgs: 2, Impl: arrayGetItem},
	"States.ArrayLength":    {MinArgs: 1, MaxArgs: 1, Impl: arrayLength},
	"States.ArrayUnique":    {MinArgs: 1, MaxArgs: 1, Impl: arrayUnique},
	"States.Base64Encode":   {MinArgs: 1, MaxArgs: 1, Impl: base64Encode},
	"States.Base64Decode":   {MinArgs: 1, MaxArgs: 1, Impl: base64Decode},
	"States.Hash":           {MinArgs: 2, MaxArgs: 2, Impl: hashFunc},
	"States.JsonMerge":      {MinArgs: 3, MaxArgs: 3, Impl: jsonMerge},
	"States.MathRandom":     {MinArgs: 2, MaxArgs: 3, Impl: mathRandom},
	"States.MathAdd":        {MinArgs: 2, MaxArgs: 2, Impl: mathAdd},
	"States.StringSplit":    {MinArgs: 2, MaxArgs: 2, Impl: stringSplit},
	"States.UUID":           {MinArgs: 0, MaxArgs: 0, Impl: uuidFunc},
}

// Lookup returns the specification of an intrinsic function by its full name
// ("States.Format").
func Lookup(name string) (Spec, bool) {
	s, ok := specs[name]
	if ok {
		s.Name = name
	}
	return s, ok
}

// Names returns the names of all intrinsic functions, sorted.
func Names() []string {
	out := make([]string, 0, len(specs))
	for n := range specs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// format: States.Format(template, values...). A literal template's placeholders were found
// before unescaping, so \{\} stays literal; a template read from a path uses every "{}".
func format(_ Env, call *Call, args []any) (any, error) {
	var parts []string
	if call.Args[0].Kind == ArgString {
		parts = call.Args[0].parts
	} else {
		s, err := argString(call, args, 0)
		if err != nil {
			return nil, err
		}
		parts = strings.Split(s, "{}")
	}
	if len(parts)-1 != len(args)-1 {
		return nil, failure(call, "the template has %d '{}' placeholders but %d values were given", len(parts)-1, len(args)-1)
	}
	var b strings.Builder
	b.WriteString(parts[0])
	for i, v := range args[1:] {
		switch t := v.(type) {
		case string:
			b.WriteString(t)
		case nil:
			b.WriteString("null")
		case bool, json.Number:
			fmt.Fprint(&b, t)
		default:
			// https://states-language.net/spec.html (Appendix B, States.Format): "The Value
			// MUST NOT be a JSON array or object."
			if !jsonpath.IsNumber(t) {
				return nil, failure(call, "argument %d is %s; only strings, numbers, booleans and null can be formatted", i+2, kind(t))
			}
			fmt.Fprint(&b, t)
		}
		b.WriteString(parts[i+1])
	}
	return b.String(), nil
}

func stringToJSON(_ Env, call *Call, args []any) (any, error) {
	s, err := argString(call, args, 0)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, failure(call, "the string is not valid JSON: %v", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, failure(call, "the string holds more than one JSON value")
	}
	return v, nil
}

func jsonToString(_ Env, call *Call, args []any) (any, error) {
	s, err := marshal(args[0])
	if err != nil {
		return nil, failure(call, "%v", err)
	}
	return s, nil
}

func array(_ Env, _ *Call, args []any) (any, error) {
	out := make([]any, len(args))
	copy(out, args)
	return out, nil
}

func arrayPartition(_ Env, call *Call, args []any) (any, error) {
	a, err := argArray(call, args, 0)
	if err != nil {
		return nil, err
	}
	size, err := argInt(call, args, 1)
	if err != nil {
		return nil, err
	}
	if size <= 0 {
		return nil, failure(call, "the chunk size must be a positive integer, got %d", size)
	}
	out := []any{}
	for i := 0; i < len(a); i += int(size) {
		end := min(i+int(size), len(a))
		chunk := make([]any, end-i)
		copy(chunk, a[i:end])
		out = append(out, chunk)
	}
	return out, nil
}

func arrayContains(_ Env, call *Call, args []any) (any, error) {
	a, err := argArray(call, args, 0)
	if err != nil {
		return nil, err
	}
	for _, v := range a {
		if jsonpath.Equal(v, args[1]) {
			return true, nil
		}
	}
	return false, nil
}

func arrayRange(_ Env, call *Call, args []any) (any, error) {
	var n [3]int64
	for i := range n {
		v, err := argInt(call, args, i)
		if err != nil {
			return nil, err
		}
		n[i] = v
	}
	start, end, step := n[0], n[1], n[2]
	if step == 0 {
		return nil, failure(call, "the step must not be zero")
	}
	out := []any{}
	if (step > 0 && start > end) || (step < 0 && start < end) {
		return out, nil
	}
	// Unsigned arithmetic: the distance between two int64 values always fits in a uint64.
	var dist, stride uint64
	if step > 0 {
		dist, stride = uint64(end)-uint64(start), uint64(step)
	} else {
		dist, stride = uint64(start)-uint64(end), -uint64(step)
	}
	if q := dist / stride; q >= MaxArrayRange {
		return nil, failure(call, "the range would have more than %d items", MaxArrayRange)
	}
	count := int64(dist/stride) + 1
	for i := int64(0); i < count; i++ {
		out = append(out, num(start+i*step))
	}
	return out, nil
}

func arrayGetItem(_ Env, call *Call, args []any) (any, error) {
	a, err := argArray(call, args, 0)
	if err != nil {
		return nil, err
	}
	i, err := argInt(call, args, 1)
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= int64(len(a)) {
		return nil, failure(call, "index %d is out of bounds for an array of length %d", i, len(a))
	}
	return a[i], nil
}

func arrayLength(_ Env, call *Call, args []any) (any, error) {
	a, err := argArray(call, args, 0)
	if err != nil {
		return nil, err
	}
	return num(int64(len(a))), nil
}

// arrayUnique keeps the first occurrence of each value, in order.
func arrayUnique(_ Env, call *Call, args []any) (any, error) {
	a, err := argArray(call, args, 0)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, v := range a {
		dup := false
		for _, w := range out {
			if jsonpath.Equal(v, w) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out, nil
}

func base64Encode(_ Env, call *Call, args []any) (any, error) {
	s, err := argString(call, args, 0)
	if err != nil {
		return nil, err
	}
	if n := utf16Len(s); n > MaxBase64Chars {
		return nil, failure(call, "the input has %d characters; at most %d are allowed", n, MaxBase64Chars)
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func base64Decode(_ Env, call *Call, args []any) (any, error) {
	s, err := argString(call, args, 0)
	if err != nil {
		return nil, err
	}
	if n := utf16Len(s); n > MaxBase64Chars {
		return nil, failure(call, "the input has %d characters; at most %d are allowed", n, MaxBase64Chars)
	}
	// MIME Base64: line breaks are allowed in the encoded text.
	clean := strings.NewReplacer("\r", "", "\n", "").Replace(s)
	b, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		return nil, failure(call, "the input is not valid Base64: %v", err)
	}
	if !utf8.Valid(b) {
		return strings.ToValidUTF8(string(b), "\uFFFD"), nil
	}
	return string(b), nil
}

var hashes = map[string]func() hash.Hash{
	"MD5":     md5.New,
	"SHA-1":   sha1.New,
	"SHA-256": sha256.New,
	"SHA-384": sha512.New384,
	"SHA-512": sha512.New,
}

func hashFunc(_ Env, call *Call, args []any) (any, error) {
	var data string
	switch t := args[0].(type) {
	case string:
		data = t
	default:
		// Non-string data is hashed as its JSON text.
		s, err := marshal(t)
		if err != nil {
			return nil, failure(call, "%v", err)
		}
		data = s
	}
	if n := utf16Len(data); n > MaxHashChars {
		return nil, failure(call, "the input has %d characters; at most %d are allowed", n, MaxHashChars)
	}
	alg, err := argString(call, args, 1)
	if err != nil {
		return nil, err
	}
	newHash, ok := hashes[alg]
	if !ok {
		return nil, failure(call, "unsupported hash algorithm %q (use MD5, SHA-1, SHA-256, SHA-384 or SHA-512)", alg)
	}
	h := newHash()
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// jsonMerge is shallow: members of the second object replace those of the first.
func jsonMerge(_ Env, call *Call, args []any) (any, error) {
	a, err := argObject(call, args, 0)
	if err != nil {
		return nil, err
	}
	b, err := argObject(call, args, 1)
	if err != nil {
		return nil, err
	}
	deep, ok := args[2].(bool)
	if !ok {
		return nil, failure(call, "argument 3 (deep merge) must be a boolean, got %s", kind(args[2]))
	}
	if deep {
		return nil, failure(call, "deep merging is not supported; the third argument must be false")
	}
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out, nil
}

// mathRandom returns an integer in [start, end). With a seed the result is a function of the
// seed: it follows java.util.Random(seed).nextInt(end-start)+start.
func mathRandom(env Env, call *Call, args []any) (any, error) {
	start, err := argInt(call, args, 0)
	if err != nil {
		return nil, err
	}
	end, err := argInt(call, args, 1)
	if err != nil {
		return nil, err
	}
	if end <= start {
		return nil, failure(call, "the end (%d) must be greater than the start (%d)", end, start)
	}
	span := end - start
	if span <= 0 { // overflow
		return nil, failure(call, "the range is too large")
	}
	if len(args) == 3 {
		seed, err := argInt(call, args, 2)
		if err != nil {
			return nil, err
		}
		if span > 1<<31-1 {
			return nil, failure(call, "with a seed the range must be at most %d", int64(1<<31-1))
		}
		return num(start + int64(newJavaRandom(seed).nextInt(int32(span)))), nil
	}
	draw := defaultRand
	if env.Rand != nil {
		draw = env.Rand.Int64N
	}
	return num(start + draw(span)), nil
}

func mathAdd(_ Env, call *Call, args []any) (any, error) {
	var sum int64
	for i := range 2 {
		n, err := argInt(call, args, i)
		if err != nil {
			return nil, err
		}
		if n < minMathAddValue || n > maxMathAddValue {
			return nil, failure(call, "argument %d (%d) is outside the range %d..%d", i+1, n, minMathAddValue, maxMathAddValue)
		}
		sum += n
	}
	return num(sum), nil
}

// stringSplit splits on any of the delimiter characters and drops empty strings.
func stringSplit(_ Env, call *Call, args []any) (any, error) {
	s, err := argString(call, args, 0)
	if err != nil {
		return nil, err
	}
	delims, err := argString(call, args, 1)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(delims, r) }) {
		out = append(out, f)
	}
	return out, nil
}

func uuidFunc(env Env, call *Call, _ []any) (any, error) {
	u, err := newUUID(env)
	if err != nil {
		return nil, failure(call, "%v", err)
	}
	return u, nil
}

// javaRandom is java.util.Random's 48-bit linear congruential generator, so a seeded
// States.MathRandom gives the same number for the same seed.
type javaRandom struct{ seed int64 }

const (
	javaMultiplier = 0x5DEECE66D
	javaMask       = (1 << 48) - 1
)

func newJavaRandom(seed int64) *javaRandom {
	return &javaRandom{seed: (seed ^ javaMultiplier) & javaMask}
}

func (r *javaRandom) next(bits uint) int32 {
	r.seed = (r.seed*javaMultiplier + 0xB) & javaMask
	return int32(uint64(r.seed) >> (48 - bits))
}

func (r *javaRandom) nextInt(bound int32) int32 {
	x := r.next(31)
	m := bound - 1
	if bound&m == 0 {
		return int32((int64(bound) * int64(x)) >> 31)
	}
	for u := x; ; u = r.next(31) {
		x = u % bound
		if u-x+m >= 0 { // int32 overflow here is the rejection test, as in Java
			return x
		}
	}
}
