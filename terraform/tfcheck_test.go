package terraform

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/serverless-elt/elt/internal/lambdaentry"
)

// tfDir is one directory of .tf files: a module or an environment root.
type tfDir struct {
	path  string
	files map[string]*hclsyntax.Body
	srcs  map[string][]byte
}

func loadDirs(t *testing.T) []*tfDir {
	t.Helper()
	byDir := map[string]*tfDir{}
	err := filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".terraform") {
			return filepath.SkipDir
		}
		if d.IsDir() || filepath.Ext(p) != ".tf" {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, diags := hclsyntax.ParseConfig(src, p, hcl.InitialPos)
		if diags.HasErrors() {
			t.Errorf("parse %s: %s", p, diags.Error())
			return nil
		}
		dir := filepath.Dir(p)
		if byDir[dir] == nil {
			byDir[dir] = &tfDir{path: dir, files: map[string]*hclsyntax.Body{}, srcs: map[string][]byte{}}
		}
		byDir[dir].files[p] = f.Body.(*hclsyntax.Body)
		byDir[dir].srcs[p] = src
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	var dirs []*tfDir
	for _, d := range byDir {
		dirs = append(dirs, d)
	}
	sort.Slice(dirs, func(i, j int) bool { return dirs[i].path < dirs[j].path })
	if len(dirs) < 2 {
		t.Fatalf("found %d terraform directories; expected modules and envs", len(dirs))
	}
	return dirs
}

func (d *tfDir) blocks(typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, name := range sortedKeys(d.files) {
		for _, b := range d.files[name].Blocks {
			if b.Type == typ {
				out = append(out, b)
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestFormatted: every file is in the layout `terraform fmt` produces.
func TestFormatted(t *testing.T) {
	for _, d := range loadDirs(t) {
		for _, name := range sortedKeys(d.srcs) {
			src := d.srcs[name]
			if got := hclwrite.Format(src); !bytes.Equal(got, src) {
				t.Errorf("%s is not canonically formatted (terraform fmt would change it)", name)
			}
		}
	}
}

// variableRefs returns the names used as var.<name> anywhere in the directory.
func (d *tfDir) variableRefs() map[string]bool {
	used := map[string]bool{}
	for _, name := range sortedKeys(d.files) {
		hclsyntax.VisitAll(d.files[name], func(n hclsyntax.Node) hcl.Diagnostics {
			if e, ok := n.(*hclsyntax.ScopeTraversalExpr); ok && e.Traversal.RootName() == "var" && len(e.Traversal) > 1 {
				if a, ok := e.Traversal[1].(hcl.TraverseAttr); ok {
					used[a.Name] = true
				}
			}
			return nil
		})
	}
	return used
}

type variableDecl struct {
	required bool
}

func (d *tfDir) variables() map[string]variableDecl {
	vars := map[string]variableDecl{}
	for _, b := range d.blocks("variable") {
		_, hasDefault := b.Body.Attributes["default"]
		vars[b.Labels[0]] = variableDecl{required: !hasDefault}
	}
	return vars
}

// TestVariablesDeclaredAndUsed: no reference to an undeclared variable and no
// declared variable left unused.
func TestVariablesDeclaredAndUsed(t *testing.T) {
	for _, d := range loadDirs(t) {
		declared := d.variables()
		used := d.variableRefs()
		for name := range used {
			if _, ok := declared[name]; !ok {
				t.Errorf("%s: var.%s is used but not declared", d.path, name)
			}
		}
		for name := range declared {
			if !used[name] {
				t.Errorf("%s: variable %q is declared but never used", d.path, name)
			}
		}
		for _, b := range d.blocks("variable") {
			if _, ok := b.Body.Attributes["description"]; !ok {
				t.Errorf("%s: variable %q has no description", d.path, b.Labels[0])
			}
		}
	}
}

// metaArguments are module block arguments that are not module inputs.
var metaArguments = map[string]bool{"source": true, "version": true, "count": true, "for_each": true, "depends_on": true, "providers": true}

// TestModuleInputsExist: every argument of a module call is a variable of the
// module, and every required variable is given.
func TestModuleInputsExist(t *testing.T) {
	dirs := loadDirs(t)
	byPath := map[string]*tfDir{}
	for _, d := range dirs {
		byPath[filepath.Clean(d.path)] = d
	}
	calls := 0
	for _, d := range dirs {
		for _, b := range d.blocks("module") {
			calls++
			src, diags := b.Body.Attributes["source"].Expr.Value(nil)
			if diags.HasErrors() {
				t.Errorf("%s: module %q: source is not a literal", d.path, b.Labels[0])
				continue
			}
			target := byPath[filepath.Clean(filepath.Join(d.path, src.AsString()))]
			if target == nil {
				t.Errorf("%s: module %q: source %s is not a module in this tree", d.path, b.Labels[0], src.AsString())
				continue
			}
			vars := target.variables()
			for arg := range b.Body.Attributes {
				if metaArguments[arg] {
					continue
				}
				if _, ok := vars[arg]; !ok {
					t.Errorf("%s: module %q passes %q, which %s does not declare", d.path, b.Labels[0], arg, target.path)
				}
			}
			for name, v := range vars {
				if _, given := b.Body.Attributes[name]; v.required && !given {
					t.Errorf("%s: module %q does not set required variable %q of %s", d.path, b.Labels[0], name, target.path)
				}
			}
		}
	}
	if calls == 0 {
		t.Fatal("no module calls found")
	}
}

var placeholderRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// TestWorkflowPlaceholdersBound: every generated workflow is deployed through
// templatefile, and every ${placeholder} in it is bound, with nothing extra.
func TestWorkflowPlaceholdersBound(t *testing.T) {
	deployed := map[string]bool{}
	for _, d := range loadDirs(t) {
		for _, name := range sortedKeys(d.files) {
			hclsyntax.VisitAll(d.files[name], func(n hclsyntax.Node) hcl.Diagnostics {
				call, ok := n.(*hclsyntax.FunctionCallExpr)
				if !ok || call.Name != "templatefile" || len(call.Args) != 2 {
					return nil
				}
				tmpl, ok := call.Args[0].(*hclsyntax.TemplateExpr)
				if !ok || len(tmpl.Parts) == 0 {
					t.Errorf("%s: templatefile path is not a template string", name)
					return nil
				}
				lit, ok := tmpl.Parts[len(tmpl.Parts)-1].(*hclsyntax.LiteralValueExpr)
				if !ok {
					t.Errorf("%s: templatefile path does not end in a literal file name", name)
					return nil
				}
				file := filepath.Base(lit.Val.AsString())
				if !strings.HasSuffix(file, ".asl.json") {
					return nil
				}
				deployed[file] = true
				def, err := os.ReadFile(filepath.Join("..", "workflows", file))
				if err != nil {
					t.Errorf("%s: templatefile names %s: %v", name, file, err)
					return nil
				}
				want := map[string]bool{}
				for _, m := range placeholderRE.FindAllStringSubmatch(string(def), -1) {
					want[m[1]] = true
				}
				obj, ok := call.Args[1].(*hclsyntax.ObjectConsExpr)
				if !ok {
					t.Errorf("%s: templatefile(%s) variables are not an object literal", name, file)
					return nil
				}
				got := map[string]bool{}
				for _, item := range obj.Items {
					key, diags := item.KeyExpr.Value(nil)
					if diags.HasErrors() {
						t.Errorf("%s: templatefile(%s): a key is not a literal", name, file)
						continue
					}
					got[key.AsString()] = true
				}
				for p := range want {
					if !got[p] {
						t.Errorf("%s: templatefile(%s) leaves ${%s} unbound", name, file, p)
					}
				}
				for p := range got {
					if !want[p] {
						t.Errorf("%s: templatefile(%s) binds %q, which the definition does not use", name, file, p)
					}
				}
				return nil
			})
		}
	}
	files, _ := filepath.Glob(filepath.Join("..", "workflows", "*.asl.json"))
	if len(files) == 0 {
		t.Fatal("no workflows/*.asl.json found")
	}
	for _, f := range files {
		if !deployed[filepath.Base(f)] {
			t.Errorf("workflow %s is not deployed by any templatefile call", filepath.Base(f))
		}
	}
}

// resourceWildcardAllowed lists statements whose actions AWS documents as not
// supporting resource-level permissions, so their Resource must be "*".
var resourceWildcardAllowed = map[string]string{
	"LogDelivery": "CloudWatch Logs vended log delivery APIs used by Step Functions logging take no resource ARN",
	// In a KMS key policy, Resource "*" means the key the policy is attached
	// to (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html).
	"KeyAdministration":       "KMS key policy: * is the key itself",
	"AlarmsUseKey":            "KMS key policy: * is the key itself",
	"AccountPublishersUseKey": "KMS key policy: * is the key itself",
}

// TestIAMLeastPrivilege: every Allow statement names specific actions (no
// "*" or "service:*") on specific resources (no bare "*").
func TestIAMLeastPrivilege(t *testing.T) {
	statements := 0
	check := func(where, sid string, deny bool, actions, resources []string) {
		statements++
		if deny {
			return // Deny statements (TLS-only guards) may be broad by design.
		}
		for _, a := range actions {
			if a == "*" || strings.HasSuffix(a, ":*") || !strings.Contains(a, ":") {
				t.Errorf("%s: statement %q allows wildcard action %q", where, sid, a)
			}
		}
		if len(actions) == 0 {
			t.Errorf("%s: statement %q names no actions", where, sid)
		}
		for _, r := range resources {
			if r == "*" {
				if _, ok := resourceWildcardAllowed[sid]; !ok {
					t.Errorf("%s: statement %q allows every resource", where, sid)
				}
			}
		}
		if len(resources) == 0 {
			t.Errorf("%s: statement %q names no resources", where, sid)
		}
	}
	for _, d := range loadDirs(t) {
		for _, name := range sortedKeys(d.files) {
			hclsyntax.VisitAll(d.files[name], func(n hclsyntax.Node) hcl.Diagnostics {
				switch n := n.(type) {
				case *hclsyntax.Block:
					if n.Type != "statement" {
						return nil
					}
					// Dynamic statements are templates over policy_statements,
					// which are checked where they are written.
					if isDynamicContent(n) {
						return nil
					}
					deny := false
					if e, ok := n.Body.Attributes["effect"]; ok {
						v, _ := e.Expr.Value(nil)
						deny = v.IsKnown() && v.AsString() == "Deny"
					}
					sid := ""
					if e, ok := n.Body.Attributes["sid"]; ok {
						if v, diags := e.Expr.Value(nil); !diags.HasErrors() {
							sid = v.AsString()
						}
					}
					if _, ok := n.Body.Attributes["principals"]; ok {
						return nil
					}
					if sid == "" && isAssumeRole(n) {
						return nil
					}
					check(name, sid, deny, stringList(n.Body.Attributes["actions"]), stringList(n.Body.Attributes["resources"]))
				case *hclsyntax.ObjectConsExpr:
					items := objectItems(n)
					actions, ok := items["actions"]
					if !ok {
						return nil
					}
					if call, isCall := actions.(*hclsyntax.FunctionCallExpr); isCall && call.Name == "list" {
						return nil // a type constraint (list(string)) in a variable declaration
					}
					sid := ""
					if s, ok := items["sid"]; ok {
						if v, diags := s.Value(nil); !diags.HasErrors() {
							sid = v.AsString()
						}
					}
					check(name, sid, false, exprStrings(actions), exprStrings(items["resources"]))
				}
				return nil
			})
		}
	}
	if statements < 10 {
		t.Fatalf("found only %d IAM statements; the walker is probably broken", statements)
	}
}

func isDynamicContent(b *hclsyntax.Block) bool {
	a, ok := b.Body.Attributes["actions"]
	if !ok {
		return false
	}
	_, isTraversal := a.Expr.(*hclsyntax.ScopeTraversalExpr)
	_, isRel := a.Expr.(*hclsyntax.RelativeTraversalExpr)
	return isTraversal || isRel
}

func isAssumeRole(b *hclsyntax.Block) bool {
	for _, a := range stringList(b.Body.Attributes["actions"]) {
		if a == "sts:AssumeRole" {
			return true
		}
	}
	return false
}

func objectItems(o *hclsyntax.ObjectConsExpr) map[string]hclsyntax.Expression {
	items := map[string]hclsyntax.Expression{}
	for _, it := range o.Items {
		k, diags := it.KeyExpr.Value(nil)
		if diags.HasErrors() || !k.IsKnown() {
			continue
		}
		items[k.AsString()] = it.ValueExpr
	}
	return items
}

func stringList(a *hclsyntax.Attribute) []string {
	if a == nil {
		return nil
	}
	return exprStrings(a.Expr)
}

// exprStrings returns the elements of a tuple expression as strings; an
// element that is not a literal (a reference or an interpolation) is
// returned as its source-like placeholder, which is never "*".
func exprStrings(e hclsyntax.Expression) []string {
	tup, ok := e.(*hclsyntax.TupleConsExpr)
	if !ok {
		return []string{"<expr>"}
	}
	var out []string
	for _, el := range tup.Exprs {
		v, diags := el.Value(nil)
		if diags.HasErrors() || !v.IsKnown() || !v.IsWhollyKnown() {
			out = append(out, "<expr>")
			continue
		}
		out = append(out, v.AsString())
	}
	return out
}

var accountIDRE = regexp.MustCompile(`\b\d{12}\b`)

// TestNoAccountIDs: no account ids or profile names are committed.
func TestNoAccountIDs(t *testing.T) {
	for _, d := range loadDirs(t) {
		for _, name := range sortedKeys(d.srcs) {
			src := string(d.srcs[name])
			if m := accountIDRE.FindString(src); m != "" {
				t.Errorf("%s contains what looks like an account id: %s", name, m)
			}
			if strings.Contains(src, "profile") && strings.Contains(src, "provider") && strings.Contains(src, "profile =") {
				t.Errorf("%s sets an AWS profile", name)
			}
		}
	}
}

// lambdaModules maps each call of modules/lambda_function (by module label)
// to the literal handler name it deploys.
func lambdaModules(t *testing.T) map[string]string {
	t.Helper()
	handlers := map[string]string{}
	eachLambdaModule(t, func(d *tfDir, b *hclsyntax.Block) {
		a, ok := b.Body.Attributes["handler"]
		if !ok {
			t.Errorf("%s: module %q sets no handler", d.path, b.Labels[0])
			return
		}
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() {
			t.Errorf("%s: module %q: handler is not a literal", d.path, b.Labels[0])
			return
		}
		handlers[b.Labels[0]] = v.AsString()
	})
	return handlers
}

// eachLambdaModule calls fn for every call of modules/lambda_function.
func eachLambdaModule(t *testing.T, fn func(d *tfDir, b *hclsyntax.Block)) {
	t.Helper()
	for _, d := range loadDirs(t) {
		for _, b := range d.blocks("module") {
			src, diags := b.Body.Attributes["source"].Expr.Value(nil)
			if diags.HasErrors() || !strings.HasSuffix(src.AsString(), "modules/lambda_function") {
				continue
			}
			fn(d, b)
		}
	}
}

// TestLambdaHandlersExist: every function Terraform deploys names a handler
// of the bootstrap's dispatch table (a typo would only fail at cold start
// on AWS), and every handler in the table is deployed.
func TestLambdaHandlersExist(t *testing.T) {
	table := lambdaentry.Handlers()
	deployed := map[string]bool{}
	for label, h := range lambdaModules(t) {
		deployed[h] = true
		if _, ok := table[h]; !ok {
			t.Errorf("module %q deploys handler %q, which lambdaentry.Handlers() does not have (have %v)", label, h, lambdaentry.Names())
		}
	}
	for _, h := range lambdaentry.Names() {
		if !deployed[h] {
			t.Errorf("lambdaentry handler %q is not deployed by any lambda_function module", h)
		}
	}
}

// TestPlaceholdersBindTheirFunction: a ${<task>_function_arn} placeholder is
// bound to the ARN of the function whose handler is <task>, so a workflow
// never invokes the wrong task.
func TestPlaceholdersBindTheirFunction(t *testing.T) {
	handlers := lambdaModules(t)
	checked := 0
	for _, d := range loadDirs(t) {
		for _, name := range sortedKeys(d.files) {
			hclsyntax.VisitAll(d.files[name], func(n hclsyntax.Node) hcl.Diagnostics {
				call, ok := n.(*hclsyntax.FunctionCallExpr)
				if !ok || call.Name != "templatefile" || len(call.Args) != 2 {
					return nil
				}
				obj, ok := call.Args[1].(*hclsyntax.ObjectConsExpr)
				if !ok {
					return nil
				}
				for key, val := range objectItems(obj) {
					task, ok := strings.CutSuffix(key, "_function_arn")
					if !ok {
						continue
					}
					checked++
					ref, ok := val.(*hclsyntax.ScopeTraversalExpr)
					if !ok || ref.Traversal.RootName() != "module" || len(ref.Traversal) < 2 {
						t.Errorf("%s: ${%s} is not bound to a module's output", name, key)
						continue
					}
					attr, ok := ref.Traversal[1].(hcl.TraverseAttr)
					if !ok {
						continue
					}
					if got := handlers[attr.Name]; got != task {
						t.Errorf("%s: ${%s} is bound to module %q, whose handler is %q", name, key, attr.Name, got)
					}
				}
				return nil
			})
		}
	}
	if checked == 0 {
		t.Fatal("no ${*_function_arn} bindings found")
	}
}

// contractOutputs are the outputs the Makefile and `elt ... --target aws`
// read (/work/team/SESSION2.md); disabled parts must still be present.
var contractOutputs = []string{
	"region", "bronze_bucket", "silver_bucket", "queue_url", "dlq_url", "ledger_table",
	"notification_topic_arn", "ops_state_machine_arn", "quality_gate_state_machine_arn",
	"compaction_state_machine_arn", "glue_database_name", "glue_crawler_name", "event_bus_name",
}

func TestContractOutputs(t *testing.T) {
	var env *tfDir
	for _, d := range loadDirs(t) {
		if filepath.ToSlash(d.path) == "envs/dev" {
			env = d
		}
	}
	if env == nil {
		t.Fatal("envs/dev not found")
	}
	have := map[string]bool{}
	for _, b := range env.blocks("output") {
		have[b.Labels[0]] = true
		if _, ok := b.Body.Attributes["description"]; !ok {
			t.Errorf("output %q has no description", b.Labels[0])
		}
	}
	for _, name := range contractOutputs {
		if !have[name] {
			t.Errorf("envs/dev has no output %q", name)
		}
	}
}

// lambdaTimeouts maps each lambda_function module label to its literal
// timeout_seconds (modules whose timeout is not a literal are left out).
func lambdaTimeouts(t *testing.T) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	eachLambdaModule(t, func(_ *tfDir, b *hclsyntax.Block) {
		a, ok := b.Body.Attributes["timeout_seconds"]
		if !ok {
			return
		}
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() || !v.IsKnown() {
			return
		}
		n, _ := v.AsBigFloat().Int64()
		out[b.Labels[0]] = n
	})
	return out
}

// aslTaskTimeouts walks a definition (Map processors and Parallel branches
// included) and returns, per lambda:invoke FunctionName placeholder, the
// smallest TimeoutSeconds of the states that invoke it.
func aslTaskTimeouts(states map[string]any, out map[string]int64) {
	for _, v := range states {
		s, _ := v.(map[string]any)
		switch s["Type"] {
		case "Task":
			params, _ := s["Parameters"].(map[string]any)
			fn, _ := params["FunctionName"].(string)
			m := placeholderRE.FindStringSubmatch(fn)
			secs, ok := s["TimeoutSeconds"].(float64)
			if m == nil || !ok {
				continue
			}
			if prev, seen := out[m[1]]; !seen || int64(secs) < prev {
				out[m[1]] = int64(secs)
			}
		case "Map":
			for _, k := range []string{"ItemProcessor", "Iterator"} {
				if p, ok := s[k].(map[string]any); ok {
					sub, _ := p["States"].(map[string]any)
					aslTaskTimeouts(sub, out)
				}
			}
		case "Parallel":
			branches, _ := s["Branches"].([]any)
			for _, br := range branches {
				if b, ok := br.(map[string]any); ok {
					sub, _ := b["States"].(map[string]any)
					aslTaskTimeouts(sub, out)
				}
			}
		}
	}
}

// TestLambdaTimeoutWithinStateTimeout: a function may not run longer than
// the Task state that invokes it allows. Otherwise Step Functions gives up
// on the state (States.Timeout) while the function keeps running, and a
// Retry starts a second copy beside the first.
func TestLambdaTimeoutWithinStateTimeout(t *testing.T) {
	timeouts := lambdaTimeouts(t)
	checked := 0
	for _, d := range loadDirs(t) {
		for _, name := range sortedKeys(d.files) {
			hclsyntax.VisitAll(d.files[name], func(n hclsyntax.Node) hcl.Diagnostics {
				call, ok := n.(*hclsyntax.FunctionCallExpr)
				if !ok || call.Name != "templatefile" || len(call.Args) != 2 {
					return nil
				}
				tmpl, ok := call.Args[0].(*hclsyntax.TemplateExpr)
				if !ok || len(tmpl.Parts) == 0 {
					return nil
				}
				lit, ok := tmpl.Parts[len(tmpl.Parts)-1].(*hclsyntax.LiteralValueExpr)
				if !ok {
					return nil
				}
				file := filepath.Base(lit.Val.AsString())
				src, err := os.ReadFile(filepath.Join("..", "workflows", file))
				if err != nil {
					return nil // TestWorkflowPlaceholdersBound reports it
				}
				var def struct {
					States map[string]any `json:"States"`
				}
				if err := json.Unmarshal(src, &def); err != nil {
					t.Errorf("%s: %v", file, err)
					return nil
				}
				stateTimeouts := map[string]int64{}
				aslTaskTimeouts(def.States, stateTimeouts)
				obj, ok := call.Args[1].(*hclsyntax.ObjectConsExpr)
				if !ok {
					return nil
				}
				for key, val := range objectItems(obj) {
					limit, ok := stateTimeouts[key]
					if !ok {
						continue
					}
					ref, ok := val.(*hclsyntax.ScopeTraversalExpr)
					if !ok || len(ref.Traversal) < 2 {
						continue
					}
					attr, ok := ref.Traversal[1].(hcl.TraverseAttr)
					if !ok {
						continue
					}
					fn, ok := timeouts[attr.Name]
					if !ok {
						continue
					}
					checked++
					if fn > limit {
						t.Errorf("%s: function %q times out after %ds, but %s gives its Task state %ds", name, attr.Name, fn, file, limit)
					}
				}
				return nil
			})
		}
	}
	if checked == 0 {
		t.Fatal("no function timeout compared with a state timeout")
	}
}
