package engine

import (
	"math"
	"math/rand/v2"
	"time"
)

// Retrier is one entry of a state's Retry field, with AWS's defaults filled.
type Retrier struct {
	ErrorEquals     []string
	IntervalSeconds float64 // default 1
	MaxAttempts     int     // default 3; 0 means never retry
	BackoffRate     float64 // default 2.0
	MaxDelaySeconds float64 // 0 means no cap
	JitterFull      bool    // JitterStrategy FULL
}

// maxRetryDelaySeconds bounds an uncapped back-off (about 31 years) so the
// delay fits a time.Duration; AWS caps MaxDelaySeconds far lower anyway.
const maxRetryDelaySeconds = 1e9

// RetryDelay is the wait before retry number attempt (1-based) of r:
// IntervalSeconds * BackoffRate^(attempt-1), capped by MaxDelaySeconds, and
// with FULL jitter a uniformly random duration in [0, delay] drawn from rnd
// (AWS developer guide, "Handling errors in Step Functions workflows",
// Retry fields).
func (r Retrier) RetryDelay(attempt int, rnd *rand.Rand) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	secs := r.IntervalSeconds * math.Pow(r.BackoffRate, float64(attempt-1))
	if r.MaxDelaySeconds > 0 && secs > r.MaxDelaySeconds {
		secs = r.MaxDelaySeconds
	}
	if math.IsInf(secs, 0) || secs > maxRetryDelaySeconds {
		secs = maxRetryDelaySeconds
	}
	if r.JitterFull && rnd != nil {
		secs = rnd.Float64() * secs
	}
	return time.Duration(secs * float64(time.Second))
}

// retryState counts attempts per retrier for one state entry. Counts are
// per retrier: when a different retrier matches, the others keep their
// counts (they do not reset).
type retryState struct {
	counts []int
}

// next decides whether an error named name is retried by retriers: it
// returns the delay and true, or false when no retrier matches or the
// matching retrier's attempts are spent. The first matching retrier
// decides; later ones are not consulted even if it is exhausted.
func (s *retryState) next(retriers []Retrier, name string, rnd *rand.Rand) (time.Duration, bool) {
	if s.counts == nil {
		s.counts = make([]int, len(retriers))
	}
	for i, r := range retriers {
		if !matches(r.ErrorEquals, name) {
			continue
		}
		if s.counts[i] >= r.MaxAttempts {
			return 0, false
		}
		s.counts[i]++
		return r.RetryDelay(s.counts[i], rnd), true
	}
	return 0, false
}

// total is the number of retries made so far ($$.State.RetryCount).
func (s *retryState) total() int {
	n := 0
	for _, c := range s.counts {
		n += c
	}
	return n
}
