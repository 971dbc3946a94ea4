// Command aslgen writes the generated state machine definitions, their
// Mermaid pages and the JSON Schemas, checks they are fresh (-check), and
// validates ASL files on disk (aslgen validate FILE...). See Run.
package main

import "os"

func main() { os.Exit(Run(os.Args[1:], os.Stdout, os.Stderr)) }
