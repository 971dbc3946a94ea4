package quality

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// The HTML report is one self-contained page per run (inline CSS, no
// scripts, no external assets), in the spirit of GE's Data Docs: a summary,
// then one row per expectation with its arguments, what was observed and
// the first unexpected values.

type reportRow struct {
	Success    bool
	Type       string
	Column     string
	Kwargs     string
	Observed   string
	Unexpected string
	Values     []string
	Exception  string
}

type reportPage struct {
	Title     string
	Success   bool
	Suite     string
	Run       RunID
	Spec      BatchSpec
	Stats     Statistics
	Percent   string
	ResultKey string
	Rows      []reportRow
	SuiteFrom string
}

// reportStyle is the page's inline stylesheet.
const reportStyle = `<style>
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem;color:#1f2328}
h1{font-size:1.4rem;margin-bottom:.2rem}
.badge{display:inline-block;padding:.15rem .6rem;border-radius:1rem;color:#fff;font-weight:600}
.ok{background:#1a7f37}.bad{background:#cf222e}
table{border-collapse:collapse;width:100%;margin-top:1rem;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
tr.fail td{background:#fff5f5}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em;word-break:break-all}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}
dt{font-weight:600}
</style>`

// The page is written by hand rather than with html/template: text/template
// calls methods by name through reflection, which makes the Go linker keep
// every exported method of every type in the binary; in the one Lambda
// bootstrap that is every operation of every AWS SDK client (35.6 MB vs
// 20.4 MB). Every value goes through escapeHTML, as html/template escapes
// text (all values are in text context; attributes are constants).

// htmlEscaper escapes exactly what html/template escapes in text.
var htmlEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

func escapeHTML(v any) string { return htmlEscaper.Replace(fmt.Sprint(v)) }

func writeReport(w *strings.Builder, page reportPage) {
	e := escapeHTML
	pick := func(ok bool, yes, no string) string {
		if ok {
			return yes
		}
		return no
	}
	w.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	w.WriteString("<title>" + e(page.Title) + "</title>\n" + reportStyle + "\n</head>\n<body>\n")
	w.WriteString("<h1>" + e(page.Title) + "</h1>\n")
	w.WriteString(`<p><span class="badge ` + pick(page.Success, "ok", "bad") + `">` + pick(page.Success, "PASSED", "FAILED") + "</span>\n")
	w.WriteString(e(page.Stats.SuccessfulExpectations) + " of " + e(page.Stats.EvaluatedExpectations) + " expectations met (" + e(page.Percent) + ")</p>\n")
	w.WriteString("<dl>\n")
	w.WriteString("<dt>Suite</dt><dd>" + e(page.Suite) + " (" + e(page.SuiteFrom) + ")</dd>\n")
	w.WriteString("<dt>Partition</dt><dd><code>s3://" + e(page.Spec.Bucket) + "/" + e(page.Spec.Prefix) + "</code> (" + e(page.Spec.Source) + ")</dd>\n")
	w.WriteString("<dt>Rows</dt><dd>" + e(page.Spec.Rows) + " in " + e(len(page.Spec.Files)) + " file(s)</dd>\n")
	w.WriteString("<dt>Run</dt><dd>" + e(page.Run.RunName) + " at " + e(page.Run.RunTime) + "</dd>\n")
	w.WriteString("<dt>Result JSON</dt><dd><code>" + e(page.ResultKey) + "</code></dd>\n")
	w.WriteString("</dl>\n<table>\n")
	w.WriteString("<thead><tr><th>Status</th><th>Expectation</th><th>Column</th><th>Arguments</th><th>Observed</th><th>Unexpected</th><th>Sample of unexpected values</th></tr></thead>\n")
	w.WriteString("<tbody>\n")
	for _, r := range page.Rows {
		w.WriteString(`<tr class="` + pick(r.Success, "pass", "fail") + "\">\n")
		w.WriteString("<td>" + pick(r.Success, "&#10004; passed", "&#10008; failed") + "</td>\n")
		w.WriteString("<td><code>" + e(r.Type) + "</code></td>\n")
		w.WriteString("<td>" + e(r.Column) + "</td>\n")
		w.WriteString("<td><code>" + e(r.Kwargs) + "</code></td>\n")
		w.WriteString("<td>" + e(r.Observed) + "</td>\n")
		w.WriteString("<td>" + e(r.Unexpected) + "</td>\n")
		w.WriteString("<td>")
		if r.Exception != "" {
			w.WriteString("<strong>error:</strong> " + e(r.Exception))
		} else {
			for i, v := range r.Values {
				if i > 0 {
					w.WriteString(", ")
				}
				w.WriteString("<code>" + e(v) + "</code>")
			}
		}
		w.WriteString("</td>\n</tr>\n")
	}
	w.WriteString("</tbody>\n</table>\n")
	w.WriteString(`<div class="files"><h2 style="font-size:1.1rem">Files</h2><ul>` + "\n")
	for _, f := range page.Spec.Files {
		w.WriteString("<li><code>" + e(f.Key) + "</code> (" + e(f.Rows) + " rows, ETag " + e(f.ETag) + ")</li>\n")
	}
	w.WriteString("</ul></div>\n</body>\n</html>\n")
}

// RenderHTML renders a validation result as a self-contained HTML page.
func RenderHTML(v ValidationResult, resultKey string) ([]byte, error) {
	page := reportPage{
		Title:     fmt.Sprintf("Data quality: %s dt=%s", v.Meta.BatchSpec.RecordType, v.Meta.BatchSpec.Dt),
		Success:   v.Success,
		Suite:     v.Meta.ExpectationSuiteName,
		SuiteFrom: v.Meta.SuiteSource,
		Run:       v.Meta.RunID,
		Spec:      v.Meta.BatchSpec,
		Stats:     v.Statistics,
		Percent:   "no expectations",
		ResultKey: resultKey,
	}
	if p := v.Statistics.SuccessPercent; p != nil {
		page.Percent = fmt.Sprintf("%.1f%%", *p)
	}
	for _, r := range v.Results {
		row := reportRow{Success: r.Success, Type: r.ExpectationConfig.Type}
		row.Column, _ = r.ExpectationConfig.Kwargs["column"].(string)
		row.Kwargs = kwargsText(r.ExpectationConfig.Kwargs)
		if o, ok := r.Result["observed_value"]; ok {
			row.Observed = compact(o)
		}
		if n, ok := r.Result["unexpected_count"]; ok {
			row.Unexpected = fmt.Sprint(n)
			if p, ok := r.Result["unexpected_percent"].(float64); ok {
				row.Unexpected += fmt.Sprintf(" (%.2f%%)", p)
			}
		}
		if l, ok := r.Result["partial_unexpected_list"].([]any); ok {
			for _, x := range l {
				row.Values = append(row.Values, compact(x))
			}
		}
		if r.ExceptionInfo.RaisedException && r.ExceptionInfo.ExceptionMessage != nil {
			row.Exception = *r.ExceptionInfo.ExceptionMessage
		}
		page.Rows = append(page.Rows, row)
	}
	var b strings.Builder
	writeReport(&b, page)
	return []byte(b.String()), nil
}

func kwargsText(kw map[string]any) string {
	keys := make([]string, 0, len(kw))
	for k := range kw {
		if k != "column" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + compact(kw[k])
	}
	return strings.Join(parts, ", ")
}

func compact(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
