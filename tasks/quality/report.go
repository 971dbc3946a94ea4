package quality

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
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

var reportTmpl = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
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
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p><span class="badge {{if .Success}}ok{{else}}bad{{end}}">{{if .Success}}PASSED{{else}}FAILED{{end}}</span>
{{.Stats.SuccessfulExpectations}} of {{.Stats.EvaluatedExpectations}} expectations met ({{.Percent}})</p>
<dl>
<dt>Suite</dt><dd>{{.Suite}} ({{.SuiteFrom}})</dd>
<dt>Partition</dt><dd><code>s3://{{.Spec.Bucket}}/{{.Spec.Prefix}}</code> ({{.Spec.Source}})</dd>
<dt>Rows</dt><dd>{{.Spec.Rows}} in {{len .Spec.Files}} file(s)</dd>
<dt>Run</dt><dd>{{.Run.RunName}} at {{.Run.RunTime}}</dd>
<dt>Result JSON</dt><dd><code>{{.ResultKey}}</code></dd>
</dl>
<table>
<thead><tr><th>Status</th><th>Expectation</th><th>Column</th><th>Arguments</th><th>Observed</th><th>Unexpected</th><th>Sample of unexpected values</th></tr></thead>
<tbody>
{{range .Rows}}<tr class="{{if .Success}}pass{{else}}fail{{end}}">
<td>{{if .Success}}&#10004; passed{{else}}&#10008; failed{{end}}</td>
<td><code>{{.Type}}</code></td>
<td>{{.Column}}</td>
<td><code>{{.Kwargs}}</code></td>
<td>{{.Observed}}</td>
<td>{{.Unexpected}}</td>
<td>{{if .Exception}}<strong>error:</strong> {{.Exception}}{{else}}{{range $i, $v := .Values}}{{if $i}}, {{end}}<code>{{$v}}</code>{{end}}{{end}}</td>
</tr>
{{end}}</tbody>
</table>
<div class="files"><h2 style="font-size:1.1rem">Files</h2><ul>
{{range .Spec.Files}}<li><code>{{.Key}}</code> ({{.Rows}} rows, ETag {{.ETag}})</li>
{{end}}</ul></div>
</body>
</html>
`))

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
	var b bytes.Buffer
	if err := reportTmpl.Execute(&b, page); err != nil {
		return nil, fmt.Errorf("render report: %w", err)
	}
	return b.Bytes(), nil
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
