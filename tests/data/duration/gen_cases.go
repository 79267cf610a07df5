// Generates cases.json, the expected results of Go's time.ParseDuration and
// Duration.String used by tests/unit/go_duration_test.cpp.
// Regenerate with: cd tests/data/duration && go run gen_cases.go > cases.json
package main

import (
	"encoding/json"
	"math"
	"os"
	"time"
)

type parseCase struct {
	Input       string `json:"input"`
	Ok          bool   `json:"ok"`
	Nanoseconds int64  `json:"nanoseconds"`
	Error       string `json:"error,omitempty"`
}

type formatCase struct {
	Nanoseconds int64  `json:"nanoseconds"`
	Text        string `json:"text"`
}

var parseInputs = []string{
	// Documented examples and common tag values.
	"300ms", "-1.5h", "2h45m", "1h0m0.5s", ".5s", "0", "+5s", "10s", "15m",
	"1.5h", "100ms", "5m30s",
	// Every unit, both micro signs.
	"10ns", "11us", "12\u00b5s", "12\u03bcs", "13ms", "14s", "15m", "16h",
	// Signs and zero.
	"+0", "-0", "0s", "-0s", "+0.0s", "-5s", "+1h",
	// Fractions and sums.
	"5.s", "1.0s", "1.00000000000000000000001s", "100.00100s", "3h30m",
	"10.5s4m", "-2m3.4s", "1h2m3s4ms5us6ns", "39h9m14.425s", "52763797000ns",
	"0.3333333333333333333h", ".0000000001s", "1.9999999999999999999999999999s",
	"0.100000000000000000000h", "0.830103483285477580700h", "1.004s",
	"9007199254740993ns", "1s1s1s", "3m3m",
	// Limits of int64 nanoseconds.
	"9223372036854775807ns", "9223372036854775.807us",
	"9223372036854.775807ms", "9223372036.854775807s",
	"2562047h47m16.854775807s", "-9223372036854775808ns",
	"-9223372036854775.808us", "-2562047h47m16.854775808s",
	// Overflow.
	"9223372036854775808ns", "9223372036854775.808us",
	"-9223372036854775809ns", "2562047h47m16.854775808s", "3000000h",
	"99999999999999999999s", "9223372036854775807ns1ns",
	// Go's uint64 sum wraps to zero here instead of failing.
	"9223372036854775808ns9223372036854775808ns",
	// Malformed.
	"", "3", "-", "+", "s", ".", "-.", ".s", "+.s", "00", "0.0",
	"9223372036854775807", "1ms2", "1.5.5s", "1h-5m", "++1s", "-+1s",
	" 1s", "1s ", "1 s",
	// Unknown units, including non-ASCII and control characters.
	"1d", "1x", "1S", "1e3s", "0x10s", "1msec", "1\u00b5", "1\t", "5\u00e9",
	"1sec", "2H", "1\"s", "1\\s",
}

var formatValues = []int64{
	0, 1, 999, 1000, 1001, 1100, 1500, 999999, 1000000, 1500000,
	999999999, 1000000000, 1500000000, 1000000001, 60000000000,
	61000000000, 3600000000000, 3661000000000, 3600500000000,
	int64(2*time.Hour + 45*time.Minute), int64(100 * time.Hour),
	-1, -1500, -123000000, -int64(2*time.Minute + 3*time.Second),
	math.MaxInt64, math.MinInt64, math.MinInt64 + 1,
}

func main() {
	var parses []parseCase
	for _, input := range parseInputs {
		d, err := time.ParseDuration(input)
		c := parseCase{Input: input, Ok: err == nil, Nanoseconds: int64(d)}
		if err != nil {
			c.Error = err.Error()
		}
		parses = append(parses, c)
	}
	var formats []formatCase
	for _, ns := range formatValues {
		formats = append(formats, formatCase{ns, time.Duration(ns).String()})
	}
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetEscapeHTML(false)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(map[string]any{
		"parse":  parses,
		"format": formats,
	}); err != nil {
		panic(err)
	}
}
