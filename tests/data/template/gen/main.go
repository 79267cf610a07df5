// Generates ../cases.json: what Go's text/template prints (or which error it
// reports) for each template below, executed against an mdb.Machine value as
// the Go disruption-manager does. tests/unit/go_template_test.cpp replays the
// table against the C++ engine.
//
// Regenerate with: cd tests/data/template/gen && go run . > ../cases.json
package main

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"text/template"
	"unicode/utf8"

	"dmtemplategen/mdb"
	"dmtemplategen/tags"
)

// Fixtures. Cases never print a non-nil pointer nested inside a value,
// because Go prints its address there.
var machines = map[string]mdb.Machine{
	"full": {
		Hostname:             "web-01.example.com",
		DataSourceIdentifier: "mdb-1",
		DataSourceType:       "json",
		IpAddress:            "10.0.0.5",
		Location:             "us-east/rack-7",
		RequiredImage:        "base/debian/2024-01-01",
		PlannedImage:         "base/debian/2024-02-01",
		OwnerGroup:           "web-team",
		OwnerGroups:          []string{"web-team", "ops"},
		OwnerUsers:           []string{"alice", "bob"},
		Tags: tags.Tags{
			"Port":                      "8080",
			"Env":                       "prod",
			"Path":                      "/ready?x=1&y=<2>",
			"Empty":                     "",
			"DisruptionManagerReadyUrl": "http://{{.Hostname}}:8080/ready",
		},
		AwsMetadata: &mdb.AwsMetadata{
			AccountId:   "123456789012",
			AccountName: "prod-account",
			InstanceId:  "i-0abc",
			Region:      "us-east-1",
			Tags:        tags.Tags{"Name": "web-01", "Team": "web"},
		},
	},
	"minimal": {Hostname: "db-2"},
	"disabled": {
		Hostname:       "batch-3",
		IpAddress:      "192.168.1.3",
		DisableUpdates: true,
		OwnerGroups:    []string{"x"},
		Tags: tags.Tags{
			"Café":  "crème",
			"Quote": `say "hi"`,
			"Ctrl":  "a\tb",
			"Emoji": "\u2615",
		},
		AwsMetadata: &mdb.AwsMetadata{Region: "eu-west-1"},
	},
}

type testCase struct {
	Name     string // template name; "" is what the original uses
	Machine  string
	Template string
}

// c builds a case run as template "t" against the full fixture.
func c(text string) testCase { return testCase{"t", "full", text} }

// m builds a case run as template "t" against another fixture.
func m(machine, text string) testCase { return testCase{"t", machine, text} }

var cases = []testCase{
	// Every field, printed as Go prints it.
	c("http://{{.Hostname}}:8080/ready"),
	c("{{.Hostname}}|{{.DataSourceIdentifier}}|{{.DataSourceType}}|{{.IpAddress}}"),
	c("{{.Location}}|{{.RequiredImage}}|{{.PlannedImage}}|{{.OwnerGroup}}"),
	c("{{.DisableUpdates}}"),
	m("disabled", "{{.DisableUpdates}}"),
	c("{{.OwnerGroups}} {{.OwnerUsers}}"),
	m("minimal", "{{.OwnerGroups}} {{.OwnerUsers}} {{.Tags}}"),
	c("{{.Tags}}"),
	m("disabled", "{{.Tags}}"),
	c("{{.AwsMetadata}}"),
	m("minimal", "{{.AwsMetadata}}"),
	m("disabled", "{{.AwsMetadata}}"),
	c("{{.AwsMetadata.AccountId}} {{.AwsMetadata.AccountName}} {{.AwsMetadata.InstanceId}} {{.AwsMetadata.Region}}"),
	c("{{.AwsMetadata.Tags}}"),
	c("{{.AwsMetadata.Tags.Name}}"),
	m("minimal", "{{.}}"),
	m("minimal", "{{$}}"),
	testCase{"", "full", "http://{{.IpAddress}}:{{.Tags.Port}}/ready"},

	// Map keys: present, missing, empty; field syntax versus index.
	c("{{.Tags.Port}}"),
	c("{{.Tags.Missing}}"),
	c("[{{.Tags.Empty}}]"),
	c(`{{index .Tags "Port"}}`),
	c(`[{{index .Tags "Missing"}}]`),
	c("{{.Tags.Missing.Deeper}}"),
	c(`{{printf "%q" .Tags.Missing}}`),
	c("{{print .Tags.Missing}}"),
	c("{{.Tags.Missing | printf \"%v\"}}"),
	m("minimal", "{{.Tags.Port}}"),
	m("minimal", `[{{index .Tags "Port"}}]`),
	m("disabled", "{{.Tags.Café}} {{.Tags.Emoji}}"),
	c(`{{index .AwsMetadata.Tags "Team"}}`),
	c("{{.AwsMetadata.Tags.Missing}}"),

	// Fields that do not exist, and nil pointers.
	c("{{.Nope}}"),
	c("{{.hostname}}"),
	c("x{{.Hostname.Foo}}"),
	c("{{.OwnerGroups.X}}"),
	c("{{.DisableUpdates.X}}"),
	m("minimal", "{{.AwsMetadata.Region}}"),
	m("minimal", "{{.AwsMetadata.Nope}}"),
	c("{{.AwsMetadata.Nope}}"),
	c("{{.Tags.Port.X}}"),
	c("line one\n  {{.Tags.Port.X}}"),
	c("a\nb\n{{if .Hostname}}\n{{.Nope}}\n{{end}}"),
	testCase{"", "full", "{{.Nope}}"},

	// if / else if / else.
	c("{{if .DisableUpdates}}off{{else}}on{{end}}"),
	m("disabled", "{{if .DisableUpdates}}off{{else}}on{{end}}"),
	c(`{{if eq .Tags.Env "dev"}}d{{else if eq .Tags.Env "prod"}}p{{else}}?{{end}}`),
	c(`{{if eq .Tags.Env "dev"}}d{{else if eq .Tags.Env "qa"}}q{{else}}other{{end}}`),
	c("{{if .Tags.Port}}:{{.Tags.Port}}{{end}}"),
	m("minimal", "{{if .Tags.Port}}:{{.Tags.Port}}{{else}}:80{{end}}"),
	m("minimal", "{{if .AwsMetadata}}aws{{else}}not aws{{end}}"),
	c("{{if .AwsMetadata}}aws{{else}}not aws{{end}}"),
	c("{{if and .Tags.Port .IpAddress}}{{.IpAddress}}:{{.Tags.Port}}{{end}}"),
	c("{{if or .Tags.Missing .Hostname}}yes{{end}}"),
	c("{{if not .DisableUpdates}}enabled{{end}}"),
	c("{{if .OwnerGroups}}has{{else}}none{{end}}"),
	m("minimal", "{{if .OwnerGroups}}has{{else}}none{{end}}"),
	c("{{if .Tags.Empty}}set{{else}}empty{{end}}"),
	c("{{if 0}}a{{else if 0.0}}b{{else if \"\"}}c{{else}}d{{end}}"),

	// with.
	c("{{with .Tags.Port}}port={{.}}{{end}}"),
	c("{{with .Tags.Missing}}x{{else}}no port{{end}}"),
	c("{{with $p := .Tags.Port}}{{$p}}/{{.}}{{end}}"),
	c("{{with .AwsMetadata}}{{.Region}}{{else}}none{{end}}"),
	m("minimal", "{{with .AwsMetadata}}{{.Region}}{{else}}none{{end}}"),
	c("{{with .Hostname}}{{$.IpAddress}} {{.}}{{end}}"),

	// range over slices and maps.
	c("{{range .OwnerGroups}}[{{.}}]{{end}}"),
	c("{{range $i, $g := .OwnerGroups}}{{$i}}={{$g}} {{end}}"),
	c("{{range $v := .OwnerUsers}}{{$v}};{{end}}"),
	c("{{range $k, $v := .Tags}}{{$k}}={{$v}};{{end}}"),
	c("{{range .Tags}}{{.}},{{end}}"),
	c("{{range $k, $v := .AwsMetadata.Tags}}{{$k}}:{{$v}} {{end}}"),
	m("minimal", "{{range .OwnerGroups}}x{{else}}empty{{end}}"),
	m("minimal", "{{range .Tags}}x{{else}}no tags{{end}}"),
	c("{{range .Tags.Missing}}x{{else}}none{{end}}"),
	c("{{range $i, $v := .OwnerUsers}}{{if $i}},{{end}}{{$v}}{{end}}"),
	c("{{range .OwnerGroups}}{{$.Hostname}}/{{.}} {{end}}"),
	c("{{range .OwnerGroups}}{{range $.OwnerUsers}}{{.}}{{end}};{{end}}"),
	c(`{{range .OwnerGroups}}{{if eq . "ops"}}{{break}}{{end}}{{.}}{{end}}`),
	c(`{{range .OwnerGroups}}{{if eq . "web-team"}}{{continue}}{{end}}{{.}}{{end}}`),
	c(`{{range .OwnerUsers}}{{range $.OwnerGroups}}{{if eq . "ops"}}{{break}}{{end}}{{.}}{{end}};{{end}}`),
	c("{{range .Tags}}{{continue}}{{end}}done"),
	c("{{range .Hostname}}{{end}}"),
	m("minimal", "{{range .AwsMetadata}}{{end}}"),
	c("{{range .DisableUpdates}}{{end}}"),
	c("{{range $i, $e := .OwnerGroups}}{{printf \"%T\" $i}}{{end}}"),

	// Variables.
	c("{{$x := .Hostname}}{{$x}}"),
	c("{{$x := 1}}{{$x = 2}}{{$x}}"),
	c(`{{$x := "a"}}{{if true}}{{$x = "b"}}{{end}}{{$x}}`),
	c("{{$.Hostname}}"),
	c("{{$x := .Tags}}{{$x.Port}}"),
	c("{{$x}}"),
	c("{{if true}}{{$y := 1}}{{end}}{{$y}}"),
	c("{{$x = 1}}"),
	c("{{$x := .Hostname}}{{$x 1}}"),
	c("{{range $k, $v := .Tags}}{{end}}{{$k}}"),

	// printf.
	c(`{{printf "%s:%d" .Hostname 8080}}`),
	c(`{{printf "%v" .OwnerGroups}}`),
	c(`{{printf "%q" .Hostname}}`),
	c(`{{printf "%x" .Hostname}}`),
	c(`{{printf "%X" 255}}`),
	c(`{{printf "%5s|%-5s|" "a" "b"}}`),
	c(`{{printf "%05d" 42}}`),
	c(`{{printf "%.2f" 3.14159}}`),
	c(`{{printf "%d" .Hostname}}`),
	c(`{{printf "%s"}}`),
	c(`{{printf "%s" 1 2}}`),
	c(`{{printf "%v" .AwsMetadata}}`),
	m("minimal", `{{printf "%v" .AwsMetadata}}`),
	c(`{{printf "%+v" .AwsMetadata}}`),
	c(`{{printf "%#v" .AwsMetadata}}`),
	m("minimal", `{{printf "%#v" .AwsMetadata}}`),
	c(`{{printf "%#v" .Tags}}`),
	c(`{{printf "%#v" .OwnerGroups}}`),
	m("minimal", `{{printf "%#v" .OwnerGroups}} {{printf "%#v" .Tags}}`),
	c(`{{printf "%T %T %T %T %T" .Hostname .Tags .AwsMetadata .OwnerGroups .DisableUpdates}}`),
	c(`{{printf "%T %T %T %T %T" . 1 1.5 'a' nil}}`),
	c(`{{printf "%t" .DisableUpdates}}`),
	c(`{{printf "%v %v %v %v" 1.5 1e6 100000.0 123456789.0}}`),
	c(`{{printf "%v %v %v" 0.1 1e21 1e-7}}`),
	c(`{{printf "%g %g %G" 100000.0 1e-5 1e-10}}`),
	c(`{{printf "%e %E %.3e" 123.456 0.000123 0.0}}`),
	c(`{{printf "%c%c" 65 0x1F600}}`),
	c(`{{printf "%U %#U" 0x1F600 65}}`),
	c(`{{printf "%08.3f|%-8.2f|%+.1f" -3.14159 2.5 0.25}}`),
	c(`{{printf "%[2]s %[1]s" "a" "b"}}`),
	c(`{{printf "%*d|%-*d" 5 42 4 7}}`),
	c(`{{printf "100%%"}}`),
	c(`{{printf "%"}}`),
	c(`{{printf "%z" 1}}`),
	c(`{{printf "%s" nil}} {{printf "%v" nil}} {{printf "%d" nil}}`),
	c(`{{printf "%d" .OwnerGroups}}`),
	m("minimal", `{{printf "%s" .}}`),
	m("minimal", `{{printf "%+v" .}}`),
	c(`{{printf "%x %X" .OwnerGroups "hi"}}`),
	c(`{{printf "% x|%#x|% #x" "abc" "abc" "abc"}}`),
	c(`{{printf "%q %d %c" 'x' 'x' 'x'}}`),
	c(`{{printf "%.3s|%10.4v|" .Hostname .Hostname}}`),
	c(`{{printf "%+d % d %+q" 5 5 "é"}}`),
	c(`{{printf "%o %O %b %#o %#b" 8 8 5 8 5}}`),
	c(`{{printf "%x %d" -255 -7}}`),
	c(`{{printf "%v %v" 1i 1.5+2i}}`),
	c(`{{printf "%.1f %.0f %.2f" 0.25 2.5 1.005}}`),
	c(`{{printf "%#g %#.3g %#v" 1.0 2.0 3.0}}`),
	c(`{{printf "%x %X %b" 1.5 -0.125 1.0}}`),
	c(`{{printf "%6.2e|%10.3g|%-10v|" 12345.678 0.000012345 1.5}}`),
	c(`{{printf "%s" .Tags}}`),
	c(`{{printf "%d" .Tags}}`),
	c(`{{printf "%q" .OwnerUsers}}`),
	c(`{{printf "%v" (index .Hostname 0)}} {{printf "%c %q %#v" (index .Hostname 0) (index .Hostname 0) (index .Hostname 0)}}`),
	c(`{{printf "%[3]v %v" 1 2}}`),
	c(`{{printf "%[0]v %[x]v %[1]"}}`),
	c(`{{printf "%.*f|%*s|" 2 3.14159 -4 "x"}}`),
	c(`{{printf "%*d" "x" 1}}`),
	c(`{{printf "%!" 1}}`),
	c(`{{printf .Hostname}}`),
	c(`{{printf 3}}`),
	c(`{{printf .DisableUpdates}}`),
	c(`{{printf nil}}`),
	c(`{{printf .Tags.Missing}}`),
	c(`{{printf "%s" "\xff"}} {{printf "%q" "\xff\u00e9\u2028\t"}} {{printf "%+q" "\u00e9"}} {{printf "%#q" "a` + "`" + `b"}} {{printf "%#q" "ab"}}`),

	// print, println.
	c(`{{print .Hostname 1 2 "x" 3 true}}`),
	c(`{{println .Hostname .DisableUpdates}}`),
	c(`{{print}}|{{println}}|{{print nil}}|{{print nil nil}}`),
	c(`{{print .OwnerGroups .Tags}}`),

	// html, js, urlquery.
	c("{{html .Tags.Path}}"),
	c("{{js .Tags.Path}}"),
	c("{{urlquery .Tags.Path}}"),
	c("{{.Tags.Path | urlquery}}"),
	c("{{urlquery .Hostname .IpAddress}}"),
	c("{{html 1 2}} {{html .DisableUpdates}}"),
	c("{{html .Tags.Missing}} {{urlquery .Tags.Missing}}"),
	c(`{{js "caf\u00e9 \u2028 it's <b>=\\"}}`),
	c(`{{urlquery "a b&c=d/\u00e9~_.-"}}`),
	c(`{{html "\x00<'\">&"}}`),
	c(`{{js "\x01\n"}}`),
	m("minimal", "{{html .AwsMetadata}} {{js .OwnerGroups}}"),
	c("{{html .AwsMetadata}}"),

	// index and slice.
	c("{{index .OwnerGroups 1}}"),
	c("{{index .OwnerGroups 5}}"),
	c("{{index .OwnerGroups 2}}"),
	c("{{index .OwnerGroups -1}}"),
	c("{{index .Hostname 0}}"),
	c("{{index .Hostname 18}}"),
	c("{{index .Tags 1}}"),
	c(`{{index .OwnerGroups "a"}}`),
	c("{{index .DisableUpdates 0}}"),
	m("minimal", "{{index .AwsMetadata 0}}"),
	c(`{{index .AwsMetadata "Region"}}`),
	c("{{index nil 1}}"),
	c("{{index .Tags}}"),
	c("{{index .Tags nil}}"),
	c("{{index .OwnerGroups nil}}"),
	c(`{{index .Tags.Missing "x"}}`),
	c("{{index .OwnerGroups 1 0}}"),
	c("{{slice .Hostname 0 3}} {{slice .OwnerGroups 1}} {{slice .Hostname 4}}"),
	c("{{slice .Hostname 3 1}}"),
	c("{{slice .Hostname 1 2 3}}"),
	c("{{slice .Tags 1}}"),
	c("{{slice .Hostname 0 99}}"),
	c("{{slice .OwnerGroups 0 1 2}}"),
	c("{{slice .OwnerGroups 0 1 2 3}}"),
	c("{{slice nil}}"),

	// Comparisons across kinds.
	c("{{eq 1 1}} {{eq 1 2}} {{ne 1 2}}"),
	c("{{eq 1 1.0}}"),
	c(`{{eq .Hostname "x" "web-01.example.com"}} {{eq "a" "b" "c"}}`),
	c(`{{lt 1 2}} {{lt 1.5 2.5}} {{lt "a" "b"}} {{lt "b" "a"}}`),
	c("{{lt true false}}"),
	c(`{{lt 1 "a"}}`),
	c("{{le 2 2}} {{gt 3 2}} {{ge 1 2}} {{le 1.5 1.5}} {{gt \"b\" \"a\"}}"),
	c(`{{eq .Tags.Missing "x"}} {{eq .Tags.Missing .Tags.Other}}`),
	c("{{eq .AwsMetadata nil}}"),
	m("minimal", "{{eq .AwsMetadata nil}} {{eq .OwnerGroups nil}} {{eq .Tags nil}}"),
	c("{{eq .AwsMetadata .AwsMetadata}}"),
	c("{{eq .Tags .Tags}}"),
	c("{{eq .Tags .OwnerGroups}}"),
	c("{{eq .OwnerGroups .OwnerUsers}}"),
	m("minimal", "{{eq . .}}"),
	c("{{eq (index .Hostname 0) 119}} {{lt (index .Hostname 0) 200}} {{lt -1 (index .Hostname 0)}}"),
	c("{{eq 1}}"),
	c("{{eq .DisableUpdates false}} {{eq true true}}"),
	c("{{lt .Tags.Missing 1}}"),
	c("{{gt .Hostname 1}}"),
	c("{{eq 1.5 1.5}} {{eq 1i 1i}} {{lt 1i 2i}}"),
	c("{{ne .Tags.Env \"prod\"}} {{ne 1}}"),
	c(`{{eq .Tags.Port "8080"}}`),

	// and, or, not, len, call.
	c(`{{and 1 0 "x"}} {{and 1 2}} {{or 0 "" "z"}} [{{or 0 ""}}]`),
	c("{{not .Tags.Missing}} {{not .Hostname}} {{not 0}}"),
	c("{{and}}"),
	c("{{not 1 2}}"),
	c(`{{.Hostname | and true}} {{.Hostname | or false}} {{"x" | and 0}}`),
	c("{{or .Tags.Missing .Hostname}} {{and .Hostname .Tags.Missing}}"),
	c("{{len .Tags}} {{len .OwnerGroups}} {{len .Hostname}} {{len .AwsMetadata.Tags}}"),
	m("minimal", "{{len .Tags}} {{len .OwnerGroups}}"),
	c("{{len .AwsMetadata}}"),
	m("minimal", "{{len .AwsMetadata}}"),
	c("{{len .Tags.Missing}}"),
	c("{{len 3}}"),
	c("{{call .Hostname}}"),
	c("{{call nil}}"),

	// Pipelines and parentheses.
	c(`{{.Hostname | printf "%s:9000"}}`),
	c(`{{.Tags.Port | printf "%s" | len}}`),
	c(`{{"x" | .Hostname}}`),
	c("{{.Hostname | 1}}"),
	c("{{(.Hostname)}}"),
	c(`{{(printf "%s" .Hostname) | len}}`),
	c(`{{printf "%s-%s" (index .Tags "Env") .Hostname}}`),
	c("{{(.AwsMetadata).Region}}"),
	c(`{{(index .Tags "Port").X}}`),
	c("{{.Tags.Port 1}}"),
	c("{{.Hostname 1}}"),
	c("{{1 2}}"),
	c("{{nil}}"),
	c("{{(1) 2}}"),
	c(`{{printf "%d" len}}`),
	c("{{len.X}}"),
	c("{{(nil).X}}"),
	c(`{{"abc".X}}`),

	// Literals.
	c(`{{"a\tb\u00e9"}}|{{` + "`raw\\n`" + `}}`),
	c("{{1}} {{-1}} {{+2}} {{1.5}} {{1e3}} {{3.0}} {{.5}}"),
	c("{{0x1F}} {{0o17}} {{0b101}} {{017}} {{1_000}} {{0x1p4}} {{0X_1F}}"),
	c(`{{'a'}} {{'\n'}} {{'\u00e9'}} {{'\x41'}}`),
	c("{{true}} {{false}}"),
	c("{{1i}} {{1+2i}} {{0i}} {{2.5e1i}}"),
	c("{{99999999999999999999}}"),
	c("{{18446744073709551615}}"),
	c("{{08}}"),
	c("{{1e400}}"),
	c("{{'ab'}}"),
	c(`{{"\q"}}`),
	c("{{1.2.3}}"),
	c("{{0x1.8}}"),
	c("{{1__0}}"),
	c("{{''}}"),

	// Trim markers and comments.
	c("a  {{- .Hostname -}}  b"),
	c("a\n{{- /* comment */ -}}\nb"),
	c("{{/* c */}}x"),
	c("x {{- 3}} {{-3}}"),
	c("{{.Hostname -}}\n\n  tail"),
	c("a {{- /* c */}} b"),
	c("a\n\t {{- if .Hostname }}\n yes \n{{- end }}\n"),
	c("{{/* multi\nline */}}{{.IpAddress}}"),
	c("{{- .Hostname}}"),
	c("{{3 -}}"),
	c("{{/*unclosed}}"),
	c("{{/* a */ .Hostname}}"),
	c("{{ /* not a comment */ }}"),

	// Parse errors.
	c("{{.Hostname}"),
	c("{{.Hostname"),
	c("{{.Hostname\n"),
	c("{{if .Hostname}}a"),
	c("{{end}}"),
	c("{{else}}"),
	c("{{if}}{{end}}"),
	c("{{range}}{{end}}"),
	c("{{with}}{{end}}"),
	c("{{nope}}"),
	c("{{.Hostname | }}"),
	c("{{(.Hostname}}"),
	c("{{.Hostname)}}"),
	c("{{$x := }}"),
	c("{{break}}"),
	c("{{range .OwnerGroups}}{{break 1}}{{end}}"),
	c("{{range .OwnerGroups}}{{.}}{{else}}{{break}}{{end}}"),
	c("{{if .Hostname}}{{else}}{{else}}{{end}}"),
	c("{{with .Hostname}}{{else if .IpAddress}}{{end}}"),
	c("{{.Host-name}}"),
	c(`{{"unterminated}}`),
	c("{{`raw}}"),
	c("{{'a}}"),
	c("{{3x}}"),
	c("{{range $i, $v, $w := .OwnerGroups}}{{end}}"),
	c("{{$a, $b := 1}}"),
	c("{{range $i, 1}}{{end}}"),
	c("{{.Hostname:}}"),
	c("{{.Hostname ;}}"),
	c("{{if .Hostname}}\n{{else}}\n{{end}}\n{{end}}"),
	c("ok\n{{if\n.Hostname"),
	c("{{\u00a7}}"),
	c("{{.Hostname}}{{"),
	c("{{template}}"),
	c("{{template .X}}"),
	c(`{{template "a" | }}`),

	// define, template, block.
	c(`{{define "a"}}A{{.}}{{end}}[{{template "a" .Hostname}}]`),
	c(`{{block "b" .IpAddress}}<{{.}}>{{end}}`),
	c(`{{template "x"}}`),
	c(`{{define "a"}}1{{end}}{{define "a"}}2{{end}}`),
	c(`{{define "a"}}{{.Nope}}{{end}}{{template "a" .}}`),
	c(`{{define "a"}}{{$}}{{end}}{{template "a" "dollar"}}`),
	c(`{{define "a"}}{{if}}{{end}}`),

	// More scoping, pipelines and definitions.
	c(`{{.Tags.Port | printf "%s" | printf "%s!"}}`),
	c("{{$x := 1}}{{with 2}}{{$x := 3}}{{$x}}{{end}}{{$x}}"),
	c("{{range $i, $v := .Tags}}{{$i}} {{end}}"),
	c("{{$n := \"\"}}{{range .OwnerGroups}}{{$n = .}}{{end}}{{$n}}"),
	c("{{with $x := .Hostname}}{{end}}{{$x}}"),
	c("{{if $x := .Hostname}}{{$x}}{{end}}"),
	c("{{range $i := .OwnerGroups}}{{$i}}{{end}}"),
	c("{{range $k, $v := .AwsMetadata}}{{end}}"),
	c(`{{define "a"}}{{range .}}<{{.}}>{{end}}{{end}}{{template "a" .OwnerGroups}}`),
	c(`{{block "x" .}}{{.Hostname}}{{end}}`),
	c(`{{define "t"}}override{{end}}body`),
	c(`{{define "t"}}X{{.IpAddress}}{{end}}  `),
	c(`{{define "a"}}{{break}}{{end}}`),
	c(`{{range .OwnerGroups}}{{template "b" .}}{{end}}{{define "b"}}({{.}}){{end}}`),
	c(`{{define "a"}}` + "\n\n" + `{{nope}}{{end}}`),

	// More numbers.
	c("{{9223372036854775807}} {{-9223372036854775808}} {{0x7fffffffffffffff}}"),
	c("{{1e20}} {{123456789.0}} {{0.000001}} {{-0.0}} {{-0}}"),
	c(`{{printf "%d" 1.0}} {{printf "%s" 1.5}} {{printf "%v" 'x'}}`),

	// More formatting.
	c(`{{printf "%5t|%-7v|" true false}}`),
	c(`{{printf "%x" .Tags}}`),
	c(`{{printf "%08s|%-08d|%08q" "ab" 5 "c"}}`),
	c(`{{printf "%+.3e %.0e %.0f" 0.0 5.5 0.5}}`),
	c(`{{printf "%10.3q|" "abcdef"}}`),
	c(`{{printf "%c|%U|%q" -1 -1 -1}}`),
	c(`{{printf "%#X|%.1x|% X" "hi" "hello" "hi"}}`),
	c(`{{printf "%v|%T" .Tags.Missing .Tags.Missing}}`),
	c(`{{printf "%6.2v|%.3v|" 3.14159 "abcdef"}}`),
	c(`{{printf "%[2]*[1]d|%[1]d %d|%d %d %[1]d %d" 12 5}}`),
	c(`{{printf "%.[2]d" 1 2}}`),
	c(`{{printf "%-+ #0v|%+v|%#v" 1 "s" "s"}}`),
	c(`{{printf "%v %d" true true}}`),
	c(`{{printf "%e %f %g" 1e300 1e-300 1e100}}`),
	c(`{{printf "%.20f" 0.1}}`),
	c(`{{printf "%.30e" 1.0}}`),
	c(`{{printf "%g %g %g" 1e-4 0.0001234 12345678.0}}`),
	c(`{{printf "%.3g %.10g %.1g" 1234.5678 1.0 0.05}}`),
	c(`{{printf "%#.0f %#.0e %#x" 1.0 1.0 1.0}}`),
	c(`{{html (printf "%s" .AwsMetadata)}}`),
	c(`{{len .Hostname | printf "%03d"}} {{index .OwnerGroups 1 | len}}`),

	// More comparisons and logic.
	c(`{{eq .Tags.Env "dev" "qa" "prod"}}`),
	c(`{{eq "a" 1 "a"}}`),
	c(`{{eq 1 "a" 1}}`),
	c("{{and .Tags.Missing 1}} {{or .Tags.Missing .Tags.Other}}"),
	c("{{or}}"),
	c("{{not}}"),
	c("{{len}}"),
	c("{{index}}"),
	c("{{printf}}"),
	c("{{lt 1 1.5}}"),
	c("{{lt (len .Hostname) 20}}"),
	c(`{{eq .DisableUpdates "false"}}`),
	c("{{ge .Tags.Missing .Tags.Missing}}"),
	c("{{eq nil nil}} {{ne nil 1}}"),
	c("{{eq .Tags.Missing nil}}"),
	c("{{slice .OwnerGroups}}|{{slice .Hostname 0 0}}|{{len (slice .OwnerGroups 1 1)}}"),
	c("{{eq (slice .OwnerGroups 0 0) nil}}"),
	c("{{range (slice .OwnerGroups 1)}}{{.}}{{end}}"),

	// Lexing corners.
	c("a {{{.Hostname}}}"),
	c(`{{"}}"}}`),
	c("{{/* {{ */}}ok"),
	c("x \t\n{{- .Hostname}}"),
	c("{{-.Hostname}}"),
	c("{{.Hostname-}}"),
	c("{{ .Hostname -}}x"),
	c("{{.Hostname- }}"),
	m("disabled", "{{.Tags.Café}}|{{.Tags.Émoji}}"),
	c("\u00e9{{.Nope}}"),
	c("{{if .Hostname}}\n{{.Hostname\n}}{{end}}"),
	c("{{\n.Nope\n}}"),
	c("{{`a\nb`}}\n{{nope}}"),
	c("{{/*\n\n*/}}{{nope}}"),
	c("a\n\n{{- nope}}"),
	c("{{.Hostname}}\n{{end}}"),
	c("{{.Hostname}}{{.Nope}}"),
	c("{{if .Hostname}}{{.IpAddress}}{{.Nope}}{{end}}"),
	c("{{.Hostname\t}}|{{\t.IpAddress\r\n}}"),
	m("minimal", "{{$}} {{$x:=1}}"),

	// Complex literals go through fmt.Sscan in Go.
	c("{{1_0+1i}} {{1e+1+1i}} {{1.+.5i}} {{+1-2i}} {{0x1p1+1i}} {{1+2.i}}"),
	c("{{5-i}}"),
	c("{{1+2ei}}"),
	c("{{0x1+1i}}"),
	c("{{1+.i}}"),
	c("{{0b1+1i}}"),
	c("{{1e400+1i}}"),

	// Unicode classes: letters and digits in names, printable runes in %q.
	c("{{.Tags.\u65e5\u672c}}{{.Tags.x\u0661}}"),
	c(`{{printf "%q %+q %q %#U %#U" "\U00013969\u00ad\u0378" "\u65e5" 0x1F600 0x13969 0x378}}`),
	c(`{{js "\u00ad\U00013969\u65e5"}}`),
	c("{{.Tags.a\u2028}}"),
}

type result struct {
	Name      string `json:"name"`
	Machine   string `json:"machine"`
	Template  string `json:"template"`
	Ok        bool   `json:"ok"`
	Output    string `json:"output"`
	Error     string `json:"error,omitempty"`
	ErrorKind string `json:"error_kind,omitempty"` // "parse" or "exec"
	// JSON cannot carry invalid UTF-8, so such output also goes as hex.
	OutputHex string `json:"output_hex,omitempty"`
}

func main() {
	var results []result
	for _, tc := range cases {
		r := result{Name: tc.Name, Machine: tc.Machine, Template: tc.Template}
		tmpl, err := template.New(tc.Name).Parse(tc.Template)
		if err != nil {
			r.Error = err.Error()
			r.ErrorKind = "parse"
		} else {
			var out strings.Builder
			if err := tmpl.Execute(&out, machines[tc.Machine]); err != nil {
				r.Error = err.Error()
				r.ErrorKind = "exec"
			}
			r.Output = out.String()
		}
		r.Ok = r.Error == ""
		if !utf8.ValidString(r.Output) {
			r.OutputHex = hex.EncodeToString([]byte(r.Output))
		}
		if !utf8.ValidString(r.Error) {
			panic("error text is not UTF-8: " + r.Error)
		}
		results = append(results, r)
	}
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetEscapeHTML(false)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(map[string]any{
		"machines": machines,
		"cases":    results,
	}); err != nil {
		panic(err)
	}
}
