// Command lambdazip packs a Lambda custom-runtime binary into a zip as an
// executable file named "bootstrap" (what provided.al2023 runs), with a fixed
// timestamp so the same binary always gives the same zip (and the same
// source_code_hash in Terraform).
//
//	go run ./cmd/lambdazip -in build/bootstrap -out build/bootstrap.zip
package main

import (
	"archive/zip"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	in := flag.String("in", "", "binary to pack")
	out := flag.String("out", "", "zip to write")
	flag.Parse()
	if *in == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: lambdazip -in BINARY -out ZIP")
		os.Exit(2)
	}
	if err := pack(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "lambdazip:", err)
		os.Exit(1)
	}
}

func pack(in, out string) error {
	src, err := os.Open(in)
	if err != nil {
		return fmt.Errorf("open binary: %w", err)
	}
	defer src.Close()
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("create zip: %w", err)
	}
	zw := zip.NewWriter(f)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err == nil {
		_, err = io.Copy(w, src)
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write zip: %w", err)
	}
	return os.Rename(tmp, out)
}
