package asl

import (
	"fmt"
	"strings"
)

// Mermaid renders sm as a Mermaid flowchart: one node per state (shape by
// type), Next edges, Choice rules and Default as labelled edges, Catch as
// dotted edges, and Parallel branches and Map item processors as nested
// subgraphs. Node ids come from state positions, so the output is
// deterministic and state names need no escaping beyond labels.
func Mermaid(sm *StateMachine) string {
	r := &mermaid{}
	r.line(0, "flowchart TD")
	r.line(1, "%s((start))", "start")
	ids := r.scope(1, "n", sm.States)
	r.line(1, "start --> %s", ids[sm.StartAt])
	r.edges(1, sm.States, ids, true)
	if r.usedEnd {
		r.line(1, "finish((end))")
	}
	r.line(1, "classDef fail fill:#fdd,stroke:#c33")
	r.line(1, "classDef succeed fill:#dfd,stroke:#3a3")
	r.line(1, "classDef choice fill:#ffd,stroke:#aa3")
	return r.b.String()
}

type mermaid struct {
	b       strings.Builder
	usedEnd bool
}

func (r *mermaid) line(depth int, format string, args ...any) {
	r.b.WriteString(strings.Repeat("  ", depth))
	fmt.Fprintf(&r.b, format, args...)
	r.b.WriteByte('\n')
}

// scope declares the nodes of one States object and returns name -> id.
func (r *mermaid) scope(depth int, prefix string, states States) map[string]string {
	ids := map[string]string{}
	i := 0
	for name := range states.All() {
		ids[name] = fmt.Sprintf("%s%d", prefix, i)
		i++
	}
	for name, st := range states.All() {
		id := ids[name]
		label := mermaidText(name)
		switch st.Type {
		case TypeParallel:
			r.line(depth, "subgraph %s [\"%s (Parallel)\"]", id, label)
			for bi, br := range st.Branches {
				bid := fmt.Sprintf("%s_b%d", id, bi)
				r.line(depth+1, "subgraph %s [\"branch %d\"]", bid, bi+1)
				sub := r.scope(depth+2, bid+"_", br.States)
				r.edges(depth+2, br.States, sub, false)
				r.line(depth+1, "end")
			}
			r.line(depth, "end")
		case TypeMap:
			proc := st.ItemProcessor
			if proc == nil {
				proc = st.Iterator
			}
			mode := "Map"
			if proc != nil && proc.ProcessorConfig != nil && proc.ProcessorConfig.Mode == ModeDistributed {
				mode = "distributed Map"
			}
			r.line(depth, "subgraph %s [\"%s (%s)\"]", id, label, mode)
			if proc != nil {
				sub := r.scope(depth+1, id+"_", proc.States)
				r.edges(depth+1, proc.States, sub, false)
			}
			r.line(depth, "end")
		case TypeChoice:
			r.line(depth, "%s{\"%s\"}:::choice", id, label)
		case TypeSucceed:
			r.line(depth, "%s([\"%s\"]):::succeed", id, label)
		case TypeFail:
			r.line(depth, "%s([\"%s\"]):::fail", id, label)
		case TypePass:
			r.line(depth, "%s(\"%s\")", id, label)
		case TypeWait:
			r.line(depth, "%s[/\"%s\"/]", id, label)
		default:
			r.line(depth, "%s[\"%s\"]", id, label)
		}
	}
	return ids
}

// edges writes the transitions of one scope. Only the top level draws
// edges to the end node; a nested End just ends its branch.
func (r *mermaid) edges(depth int, states States, ids map[string]string, top bool) {
	for name, st := range states.All() {
		id := ids[name]
		for _, c := range st.Choices {
			r.line(depth, "%s -->|\"%s\"| %s", id, mermaidText(describeRule(&c)), ids[c.Next])
		}
		if st.Default != "" {
			r.line(depth, "%s -->|\"default\"| %s", id, ids[st.Default])
		}
		if st.Next != "" {
			r.line(depth, "%s --> %s", id, ids[st.Next])
		}
		for _, c := range st.Catch {
			r.line(depth, "%s -.->|\"catch %s\"| %s", id, mermaidText(strings.Join(c.ErrorEquals, ", ")), ids[c.Next])
		}
		if top && (st.End || st.Type == TypeSucceed) {
			r.line(depth, "%s --> finish", id)
			r.usedEnd = true
		}
	}
}

// describeRule writes a Choice rule as a short expression.
func describeRule(c *ChoiceRule) string {
	join := func(rules []ChoiceRule, sep string) string {
		parts := make([]string, len(rules))
		for i := range rules {
			parts[i] = describeRule(&rules[i])
			if len(rules[i].And)+len(rules[i].Or) > 0 {
				parts[i] = "(" + parts[i] + ")"
			}
		}
		return strings.Join(parts, sep)
	}
	switch {
	case len(c.And) > 0:
		return join(c.And, " and ")
	case len(c.Or) > 0:
		return join(c.Or, " or ")
	case c.Not != nil:
		return "not (" + describeRule(c.Not) + ")"
	}
	op, v, ok := c.Comparison()
	if !ok {
		return "?"
	}
	return fmt.Sprintf("%s %s %v", c.Variable, op, v)
}

// mermaidText escapes text for a quoted Mermaid label.
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "\n", " ").Replace(s)
}
