package compact

import (
	"context"
	"slices"
	"strings"

	"github.com/serverless-elt/elt/tasks/crawl"
)

// MaxPartitions bounds one backfill's partition list: the list travels
// through the state machine (256 KiB payload limit) and an inline Map.
const MaxPartitions = 1000

// PartitionRef is one partition to compact.
type PartitionRef struct {
	RecordType string `json:"record_type"`
	Dt         string `json:"dt"`
}

// ListInput is the backfill's selection: an explicit partition list, or
// record type(s) and an inclusive dt range.
type ListInput struct {
	SilverBucket string         `json:"silver_bucket"`
	SilverPrefix string         `json:"silver_prefix,omitempty"`
	RecordTypes  []string       `json:"record_types,omitempty"`
	RecordType   string         `json:"record_type,omitempty"`
	DtFrom       string         `json:"dt_from,omitempty"`
	DtTo         string         `json:"dt_to,omitempty"`
	Partitions   []PartitionRef `json:"partitions,omitempty"`
}

// ListOutput is the partitions to compact, sorted by type then dt.
type ListOutput struct {
	Partitions []PartitionRef `json:"partitions"`
	Count      int            `json:"count"`
}

// Lister is list_partitions.
type Lister struct {
	deps Deps
	cfg  Config
}

// NewLister returns the list_partitions task.
func NewLister(deps Deps, cfg Config) (*Lister, error) {
	if err := deps.defaults(); err != nil {
		return nil, err
	}
	cfg.defaults()
	return &Lister{deps: deps, cfg: cfg}, nil
}

// Handle lists the partitions: an explicit list is checked and returned
// (deduplicated) as is, whether or not silver has files there (compact
// reports an empty partition); a range lists the dt= prefixes of each type
// under the silver prefix that hold Parquet files, from dt_from to dt_to.
func (l *Lister) Handle(ctx context.Context, in ListInput) (ListOutput, error) {
	if in.SilverBucket == "" {
		return ListOutput{}, errorf(ErrInvalidInput, "silver_bucket is required")
	}
	var out []PartitionRef
	if len(in.Partitions) > 0 {
		if len(in.RecordTypes) > 0 || in.RecordType != "" || in.DtFrom != "" || in.DtTo != "" {
			return ListOutput{}, errorf(ErrInvalidInput, "give partitions, or record type(s) with dt_from and dt_to, not both")
		}
		for _, p := range in.Partitions {
			if _, ok := l.cfg.Registry.Lookup(p.RecordType); !ok {
				return ListOutput{}, errorf(ErrInvalidInput, "unknown record type %q", p.RecordType)
			}
			if !crawl.ValidDt(p.Dt) {
				return ListOutput{}, errorf(ErrInvalidInput, "dt %q is not a date YYYY-MM-DD", p.Dt)
			}
			out = append(out, p)
		}
	} else {
		types := slices.Clone(in.RecordTypes)
		if in.RecordType != "" {
			types = append(types, in.RecordType)
		}
		if len(types) == 0 {
			return ListOutput{}, errorf(ErrInvalidInput, "record_type or record_types is required (or partitions)")
		}
		if !crawl.ValidDt(in.DtFrom) || !crawl.ValidDt(in.DtTo) || in.DtFrom > in.DtTo {
			return ListOutput{}, errorf(ErrInvalidInput, "dt_from %q and dt_to %q must be dates YYYY-MM-DD with dt_from <= dt_to", in.DtFrom, in.DtTo)
		}
		prefix := in.SilverPrefix
		if prefix == "" {
			prefix = crawl.DefaultSilverPrefix
		}
		for _, name := range types {
			if _, ok := l.cfg.Registry.Lookup(name); !ok {
				return ListOutput{}, errorf(ErrInvalidInput, "unknown record type %q", name)
			}
			dts, err := crawl.ListPartitions(ctx, l.deps.Store, in.SilverBucket, prefix, name, in.DtFrom, in.DtTo)
			if err != nil {
				return ListOutput{}, backendError("list partitions of "+name, err)
			}
			for _, dt := range dts {
				out = append(out, PartitionRef{RecordType: name, Dt: dt})
			}
		}
	}
	slices.SortFunc(out, func(a, b PartitionRef) int {
		if c := strings.Compare(a.RecordType, b.RecordType); c != 0 {
			return c
		}
		return strings.Compare(a.Dt, b.Dt)
	})
	out = slices.Compact(out)
	if len(out) > MaxPartitions {
		return ListOutput{}, errorf(ErrInvalidInput, "%d partitions selected, at most %d per backfill: narrow the range", len(out), MaxPartitions)
	}
	if out == nil {
		out = []PartitionRef{}
	}
	return ListOutput{Partitions: out, Count: len(out)}, nil
}
