package main_test

import (
	"debug/elf"
	"strings"
	"testing"
)

// TestLinkerDropsUnusedSDKOperations guards the bootstrap's size: the Go
// linker drops exported methods nothing calls only while no linked code
// calls methods by name through reflection (text/template and html/template
// do). Once one does, every operation of every AWS SDK client is kept: the
// arm64 bootstrap went from 20.5 MB to 35.6 MB that way (tasks/quality's
// HTML report used html/template; it is now written by hand). S3 operations
// the code calls must be in the binary, ones it never calls must not.
func TestLinkerDropsUnusedSDKOperations(t *testing.T) {
	f, err := elf.Open(binary)
	if err != nil {
		t.Skipf("bootstrap built for this host is not ELF (%v): symbol check needs Linux", err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatalf("read symbols of %s: %v", binary, err)
	}
	const s3Client = "github.com/aws/aws-sdk-go-v2/service/s3.(*Client)."
	has := map[string]bool{}
	for _, s := range syms {
		if op, ok := strings.CutPrefix(s.Name, s3Client); ok {
			has[op] = true
		}
	}
	for _, op := range []string{"HeadObject", "CopyObject", "GetObject", "PutObject"} {
		if !has[op] {
			t.Errorf("s3 %s is missing: the symbol check no longer sees the SDK (renamed package?)", op)
		}
	}
	for _, op := range []string{"PutBucketWebsite", "PutObjectLegalHold", "RestoreObject", "PutBucketReplication"} {
		if has[op] {
			t.Errorf("s3 %s, which nothing calls, is linked: some dependency calls methods by name through reflection (text/template, html/template, reflect.Value.MethodByName with a variable name), so the linker keeps every SDK operation; find it with `go list -deps ./cmd/bootstrap`", op)
		}
	}
}
