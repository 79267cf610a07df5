// Writes the SRPC test vectors: gob and JSON encodings of DisruptionManager
// requests and responses from Go's own encoders, for the codec unit tests.
//
// Run from this directory (standard library only; the tests read the JSON
// and never need Go):
//
//	go run generate_vectors.go -reference > reference-vectors.json
//	go run generate_vectors.go > extra-vectors.json
//
// reference-vectors.json holds every request and response the service
// exchanges, with the shapes of Dominator's real types; extra-vectors.json
// adds senders whose structs differ from ours, and values that must be
// refused. Each file is written by its own process, so gob's type ids start
// afresh as they do in a client. Go walks a map in random order, so a rerun
// may write the entries of a map with several entries in another order; the
// committed files are one such run, and the tests accept either order where
// they compare encodings of their own.
package main

import (
	"bytes"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math/big"
	"os"
	"time"
)

// The shapes of the real messages (see docs/protocol.md): mdb.Machine,
// mdb.AwsMetadata, tags.Tags and the disruptionmanager structs.

type Tags map[string]string

type AwsMetadata struct {
	AccountId   string
	AccountName string
	InstanceId  string
	Region      string
	Tags        Tags
}

type Machine struct {
	Hostname             string
	DataSourceIdentifier string       `json:",omitempty"`
	DataSourceType       string       `json:",omitempty"`
	IpAddress            string       `json:",omitempty"`
	Location             string       `json:",omitempty"`
	RequiredImage        string       `json:",omitempty"`
	PlannedImage         string       `json:",omitempty"`
	DisableUpdates       bool         `json:",omitempty"`
	OwnerGroup           string       `json:",omitempty"`
	OwnerGroups          []string     `json:",omitempty"`
	OwnerUsers           []string     `json:",omitempty"`
	Tags                 Tags         `json:",omitempty"`
	AwsMetadata          *AwsMetadata `json:",omitempty"`
}

// DisruptionState is a uint on the gob wire (gob ignores MarshalText) and a
// name in JSON.
type DisruptionState uint

var stateNames = []string{"anytime", "permitted", "requested", "denied"}

func (s DisruptionState) MarshalText() ([]byte, error) {
	if int(s) < len(stateNames) {
		return []byte(stateNames[s]), nil
	}
	return nil, fmt.Errorf("invalid DisruptionState: %d", s)
}

type RequestKind uint

var kindNames = []string{"check", "request", "cancel"}

func (k RequestKind) MarshalText() ([]byte, error) {
	if int(k) < len(kindNames) {
		return []byte(kindNames[k]), nil
	}
	return nil, fmt.Errorf("invalid DisruptionRequest: %d", k)
}

type DisruptionCheckRequest struct{ MDB Machine }
type DisruptionRequestRequest struct{ MDB Machine }
type DisruptionCancelRequest struct{ MDB Machine }

type DisruptionRequest struct {
	MDB     Machine
	Request RequestKind
}

type DisruptionCheckResponse struct {
	Error    string
	Response DisruptionState
}
type DisruptionRequestResponse struct {
	Error    string
	Response DisruptionState
}
type DisruptionCancelResponse struct {
	Error    string
	Response DisruptionState
}
type DisruptionResponse struct{ Response DisruptionState }

// Senders that differ from the real types in ways gob tolerates.

// The same fields in another order, under another type name.
type MachineReordered struct {
	AwsMetadata          *AwsMetadata
	Tags                 Tags
	OwnerUsers           []string
	DisableUpdates       bool
	Hostname             string
	PlannedImage         string
	RequiredImage        string
	OwnerGroups          []string
	OwnerGroup           string
	Location             string
	IpAddress            string
	DataSourceType       string
	DataSourceIdentifier string
}

type ReorderedCheckRequest struct{ MDB MachineReordered }

// Named types and pointers where the real struct has plain ones.
type HostName string
type GroupList []string
type Labels map[string]string
type Flag bool

type AwsMetadataNamed struct {
	Region      HostName
	Tags        Labels
	AccountId   *string
	InstanceId  string
	AccountName string
}

type MachineNamed struct {
	Hostname       HostName
	Location       *string
	DisableUpdates Flag
	OwnerGroups    GroupList
	Tags           Labels
	AwsMetadata    *AwsMetadataNamed
}

type NamedCheckRequest struct{ MDB *MachineNamed }

// Fields we do not know, of every kind gob has, between the known ones.
type Item struct {
	Name  string
	Count int
	Sub   []Item
}

type Node struct {
	Value int
	Next  *Node
}

type Inner struct {
	A int
	B []string
	C map[string]Item
}

type MachineExtended struct {
	Serial               int
	Hostname             string
	Offset               int64
	DataSourceIdentifier string
	Weight               float64
	DataSourceType       string
	Phase                complex128
	IpAddress            string
	Blob                 []byte
	Location             string
	Flags                []bool
	RequiredImage        string
	Nested               Inner
	PlannedImage         string
	Items                []Item
	DisableUpdates       bool
	Index                map[int]Item
	OwnerGroup           string
	Grid                 [3]int
	OwnerGroups          []string
	When                 time.Time
	OwnerUsers           []string
	Chain                *Node
	Tags                 Tags
	Anything             interface{}
	Big                  *big.Int
	Matrix               [][]int
	Extra                map[string][]string
	AwsMetadata          *AwsMetadata
	Empty                struct{}
	Uint8                uint8
	Trailer              string
}

type ExtendedCheckRequest struct {
	Priority int
	MDB      MachineExtended
	Note     string
	Request  RequestKind
}

type InterfaceHolder struct{ Name string }

type InterfaceStructRequest struct {
	MDB   Machine
	Other interface{}
}

// Senders whose types do not fit ours: each must be refused.
type MachineIntHostname struct{ Hostname int }
type BadHostnameRequest struct{ MDB MachineIntHostname }
type MachineIntTags struct {
	Hostname string
	Tags     map[string]int
}
type BadTagsRequest struct{ MDB MachineIntTags }
type MachineIntGroups struct {
	Hostname    string
	OwnerGroups []int
}
type BadGroupsRequest struct{ MDB MachineIntGroups }
type MachineStringAws struct {
	Hostname    string
	AwsMetadata string
}
type BadAwsRequest struct{ MDB MachineStringAws }
type BadMdbRequest struct{ MDB string }
type MachineArrayGroups struct {
	Hostname    string
	OwnerGroups [2]string
}
type BadArrayGroupsRequest struct{ MDB MachineArrayGroups }
type BytesHostname struct{ Hostname []byte }
type BadBytesHostnameRequest struct{ MDB BytesHostname }
type SignedKindRequest struct {
	MDB     Machine
	Request int
}

type vector struct {
	Name        string
	Description string
	Kind        string // "request" or "response"
	Type        string
	GobHex      string
	// Requests that decode: the record and, for DisruptionRequest, the
	// Request field.
	Expect       json.RawMessage `json:",omitempty"`
	RequestField *uint64         `json:",omitempty"`
	// Hostname bytes in hex, for records that are not valid UTF-8 (JSON
	// cannot carry them).
	HostnameHex string `json:",omitempty"`
	// Requests and responses that must be refused: a part of the error.
	Error string `json:",omitempty"`
	// Senders using the real types, so our encoder must write these bytes.
	Canonical bool `json:",omitempty"`
	// Go's json.Encoder text for the same value, when the value has the
	// real types.
	JSONCoder string `json:",omitempty"`
	// Responses that decode.
	ResponseError *string `json:",omitempty"`
	State         string  `json:",omitempty"`
}

var vectors []vector

func gobBytes(value interface{}) []byte {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(value); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func jsonText(value interface{}) string {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(value); err != nil {
		panic(err)
	}
	return buf.String()
}

func typeName(value interface{}) string {
	return fmt.Sprintf("%T", value)
}

func addRequest(name, description string, value interface{}, expect Machine,
	canonical bool) *vector {
	raw, err := json.Marshal(expect)
	if err != nil {
		panic(err)
	}
	v := vector{
		Name:        name,
		Description: description,
		Kind:        "request",
		Type:        typeName(value),
		GobHex:      hex.EncodeToString(gobBytes(value)),
		Expect:      raw,
		Canonical:   canonical,
	}
	if canonical {
		v.JSONCoder = jsonText(value)
	}
	vectors = append(vectors, v)
	return &vectors[len(vectors)-1]
}

func addBadRequest(name, description string, value interface{}, err string) {
	vectors = append(vectors, vector{
		Name:        name,
		Description: description,
		Kind:        "request",
		Type:        typeName(value),
		GobHex:      hex.EncodeToString(gobBytes(value)),
		Error:       err,
	})
}

func addResponse(name string, value interface{}, errText string,
	state DisruptionState) {
	text := errText
	stateName, _ := state.MarshalText()
	vectors = append(vectors, vector{
		Name:          name,
		Description:   "response from a fresh encoder",
		Kind:          "response",
		Type:          typeName(value),
		GobHex:        hex.EncodeToString(gobBytes(value)),
		Canonical:     true,
		JSONCoder:     jsonText(value),
		ResponseError: &text,
		State:         string(stateName),
	})
}

func str(s string) *string { return &s }

// A machine with every field set, with the given tags.
func fullMachine(tags Tags) Machine {
	return Machine{
		Hostname:             "kube-17.example.com",
		DataSourceIdentifier: "mdbd-1",
		DataSourceType:       "text",
		IpAddress:            "10.1.2.17",
		Location:             "rack-4",
		RequiredImage:        "kubelet/2026-11-01.2",
		PlannedImage:         "kubelet/2026-11-20.1",
		DisableUpdates:       true,
		OwnerGroup:           "kube-admins",
		OwnerGroups:          []string{"kube-admins", "sre"},
		OwnerUsers:           []string{"alice"},
		Tags:                 tags,
		AwsMetadata: &AwsMetadata{AccountId: "123456789012",
			AccountName: "prod", InstanceId: "i-0abc", Region: "us-east-1",
			Tags: Tags{"Name": "kube-17"}},
	}
}

// An entry of reference-vectors.json: the value as Go's JSON encoder
// writes it, the bytes of a fresh gob encoder, and json.Encoder's text.
type referenceVector struct {
	Name        string
	Description string
	Type        string
	JSON        interface{}
	GobHex      string
	JSONCoder   string
}

// The package the real types live in (cmd/disruption-manager's API).
const realPackage = "disruptionmanager."

func referenceVectors() []referenceVector {
	var out []referenceVector
	add := func(name, description string, value interface{}) {
		typ := fmt.Sprintf("%T", value)
		out = append(out, referenceVector{
			Name:        name,
			Description: description,
			Type:        realPackage + typ[len("main."):],
			JSON:        value,
			GobHex:      hex.EncodeToString(gobBytes(value)),
			JSONCoder:   jsonText(value),
		})
	}
	minimal := Machine{Hostname: "nomad-node-0"}
	tagged := Machine{Hostname: "nomad-node-0", Tags: Tags{
		"BusinessUnit":                     "core-team",
		"DisruptionManagerGroupIdentifier": "NomadNodes"}}
	full := fullMachine(Tags{
		"DisruptionManagerGroupIdentifier":        "Kubelets",
		"DisruptionManagerGroupMaximumDisrupting": "3",
		"DisruptionManagerReadyTimeout":           "10m",
		"DisruptionManagerReadyUrl":               "http://{{.Hostname}}:10248/healthz"})
	for _, m := range []struct {
		name    string
		machine Machine
	}{{"minimal", minimal}, {"tagged", tagged}, {"full", full}} {
		add("check-request-"+m.name, "DisruptionManager.Check request, "+
			"fresh gob encoder (as one SRPC call sends it)",
			DisruptionCheckRequest{MDB: m.machine})
		add("request-request-"+m.name, "DisruptionManager.Request request",
			DisruptionRequestRequest{MDB: m.machine})
		add("cancel-request-"+m.name, "DisruptionManager.Cancel request",
			DisruptionCancelRequest{MDB: m.machine})
	}
	for _, state := range []DisruptionState{1, 2, 3} {
		name := stateNames[state]
		add("check-response-"+name, "DisruptionManager.Check response",
			DisruptionCheckResponse{Response: state})
		add("request-response-"+name, "DisruptionManager.Request response",
			DisruptionRequestResponse{Response: state})
		add("cancel-response-"+name, "DisruptionManager.Cancel response",
			DisruptionCancelResponse{Response: state})
	}
	add("request-response-error", "DisruptionManager.Request response "+
		"carrying an error (state field left at its zero value)",
		DisruptionRequestResponse{Error: "nomad-node-0 not permitted"})
	add("rest-request-request", "REST body for POST /api/v1/request",
		DisruptionRequest{MDB: tagged, Request: 1})
	add("rest-response-permitted", "REST response",
		DisruptionResponse{Response: 1})
	return out
}

func main() {
	reference := flag.Bool("reference", false,
		"write reference-vectors.json instead of extra-vectors.json")
	flag.Parse()
	if *reference {
		out := json.NewEncoder(os.Stdout)
		out.SetIndent("", "  ")
		if err := out.Encode(referenceVectors()); err != nil {
			panic(err)
		}
		return
	}
	gob.Register(InterfaceHolder{})

	full := fullMachine(Tags{"DisruptionManagerGroupIdentifier": "Kubelets"})

	// Encoded first, so the real request types get ids 65 to 69 as in a
	// fresh process.
	addRequest("check-full-one-tag",
		"every field set, one tag per map (deterministic bytes)",
		DisruptionCheckRequest{MDB: full}, full, true)

	noAws := full
	noAws.AwsMetadata = nil
	addRequest("check-no-aws", "AwsMetadata absent",
		DisruptionCheckRequest{MDB: noAws}, noAws, true)

	emptyAws := Machine{Hostname: "host-a", AwsMetadata: &AwsMetadata{}}
	addRequest("check-empty-aws",
		"AwsMetadata present with every field empty",
		DisruptionCheckRequest{MDB: emptyAws}, emptyAws, true)

	addRequest("check-empty-machine", "a machine with no field set",
		DisruptionCheckRequest{}, Machine{}, true)

	sparse := Machine{Hostname: "", Location: "row-9", OwnerUsers: []string{""},
		Tags: Tags{"": ""}}
	addRequest("check-empty-strings",
		"empty hostname, an empty user name, an empty tag key and value",
		DisruptionCheckRequest{MDB: sparse}, sparse, true)

	many := Machine{Hostname: "big-tags", Tags: Tags{}}
	for i := 0; i < 1000; i++ {
		many.Tags[fmt.Sprintf("key-%04d", i)] = fmt.Sprintf("value-%d", i*7)
	}
	addRequest("check-1000-tags", "a Tags map of 1000 entries",
		DisruptionCheckRequest{MDB: many}, many, true)

	special := Machine{
		Hostname:   "h<1>&\"q\"\\ \u2028\u2029 \x01\x1f\x7f \t\r\n é€😀",
		Location:   "</script>",
		OwnerUsers: []string{"ünïcödé", "a&b"},
		Tags:       Tags{"<key>": "\u2028", "z\x00": "nul"},
	}
	addRequest("check-special-characters",
		"strings Go's JSON encoder escapes (HTML, U+2028/9, controls)",
		DisruptionCheckRequest{MDB: special}, special, true)

	invalid := Machine{Hostname: "bad\xff\xfe utf8 \xe2\x80 \xed\xa0\x80 \xf4\x90\x80\x80 ok\xc3"}
	v := addRequest("check-invalid-utf8",
		"hostname bytes that are not UTF-8 (gob carries them raw)",
		DisruptionCheckRequest{MDB: invalid}, Machine{}, true)
	v.Expect = nil
	v.HostnameHex = hex.EncodeToString([]byte(invalid.Hostname))

	addRequest("request-request-full", "DisruptionRequestRequest",
		DisruptionRequestRequest{MDB: full}, full, true)
	addRequest("cancel-request-full", "DisruptionCancelRequest",
		DisruptionCancelRequest{MDB: noAws}, noAws, true)

	rest := Machine{Hostname: "nomad-node-0",
		Tags: Tags{"DisruptionManagerGroupIdentifier": "NomadNodes"}}
	v = addRequest("rest-cancel", "REST DisruptionRequest with Request=cancel",
		DisruptionRequest{MDB: rest, Request: 2}, rest, true)
	two := uint64(2)
	v.RequestField = &two
	v = addRequest("rest-check",
		"REST DisruptionRequest with Request=check (zero, so not sent)",
		DisruptionRequest{MDB: rest, Request: 0}, rest, true)
	zero := uint64(0)
	v.RequestField = &zero

	reordered := MachineReordered{
		AwsMetadata:          full.AwsMetadata,
		Tags:                 full.Tags,
		OwnerUsers:           full.OwnerUsers,
		DisableUpdates:       true,
		Hostname:             full.Hostname,
		PlannedImage:         full.PlannedImage,
		RequiredImage:        full.RequiredImage,
		OwnerGroups:          full.OwnerGroups,
		OwnerGroup:           full.OwnerGroup,
		Location:             full.Location,
		IpAddress:            full.IpAddress,
		DataSourceType:       full.DataSourceType,
		DataSourceIdentifier: full.DataSourceIdentifier,
	}
	addRequest("sender-reordered-fields",
		"sender's Machine has the fields in reverse-ish order and another name",
		ReorderedCheckRequest{MDB: reordered}, full, false)

	named := MachineNamed{
		Hostname:       "named-host",
		Location:       str("rack-1"),
		DisableUpdates: true,
		OwnerGroups:    GroupList{"ops"},
		Tags:           Labels{"a": "b"},
		AwsMetadata: &AwsMetadataNamed{Region: "eu-west-1",
			Tags: Labels{"x": "y"}, AccountId: str("42"), InstanceId: "i-1",
			AccountName: "acct"},
	}
	namedExpect := Machine{Hostname: "named-host", Location: "rack-1",
		DisableUpdates: true, OwnerGroups: []string{"ops"},
		Tags: Tags{"a": "b"},
		AwsMetadata: &AwsMetadata{Region: "eu-west-1", Tags: Tags{"x": "y"},
			AccountId: "42", InstanceId: "i-1", AccountName: "acct"}}
	addRequest("sender-named-types-and-pointers",
		"named string/slice/map/bool types, *string fields, *Machine",
		NamedCheckRequest{MDB: &named}, namedExpect, false)

	chain := &Node{Value: 1}
	tail := chain
	for i := 2; i <= 50; i++ {
		tail.Next = &Node{Value: -i}
		tail = tail.Next
	}
	extended := MachineExtended{
		Serial:               -12345,
		Hostname:             full.Hostname,
		Offset:               1 << 62,
		DataSourceIdentifier: full.DataSourceIdentifier,
		Weight:               -3.25,
		DataSourceType:       full.DataSourceType,
		Phase:                complex(1.5, -2),
		IpAddress:            full.IpAddress,
		Blob:                 []byte{0, 1, 2, 0xff},
		Location:             full.Location,
		Flags:                []bool{true, false, true},
		RequiredImage:        full.RequiredImage,
		Nested: Inner{A: 7, B: []string{"x", ""},
			C: map[string]Item{"k": {Name: "n", Count: 3,
				Sub: []Item{{Name: "deep"}}}}},
		PlannedImage:   full.PlannedImage,
		Items:          []Item{{Name: "a", Count: 1}, {}, {Name: "c", Sub: []Item{{Count: -1}}}},
		DisableUpdates: true,
		Index:          map[int]Item{-1: {Name: "neg"}, 5: {Count: 5}},
		OwnerGroup:     full.OwnerGroup,
		Grid:           [3]int{1, -2, 3},
		OwnerGroups:    full.OwnerGroups,
		When:           time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC),
		OwnerUsers:     full.OwnerUsers,
		Chain:          chain,
		Tags:           full.Tags,
		Anything:       "a string inside an interface",
		Big:            new(big.Int).Lsh(big.NewInt(1), 200),
		Matrix:         [][]int{{1, 2}, {}, {3}},
		Extra:          map[string][]string{"e": {"f", "g"}},
		AwsMetadata:    full.AwsMetadata,
		Uint8:          200,
		Trailer:        "end",
	}
	addRequest("sender-unknown-fields",
		"unknown fields of every gob kind between the known ones, and "+
			"unknown top-level fields; Request is a known top-level field",
		ExtendedCheckRequest{Priority: -3, MDB: extended, Note: "n", Request: 1},
		full, false).RequestField = func() *uint64 { one := uint64(1); return &one }()

	extendedNilInterface := MachineExtended{Hostname: "nil-iface"}
	addRequest("sender-unknown-fields-zero",
		"the extended sender with its unknown fields left zero",
		ExtendedCheckRequest{MDB: extendedNilInterface},
		Machine{Hostname: "nil-iface"}, false)

	addBadRequest("sender-interface-new-type",
		"an unknown interface field whose concrete type is defined inside "+
			"the value (Go splits the message); refused cleanly",
		InterfaceStructRequest{MDB: rest, Other: InterfaceHolder{Name: "x"}},
		"interface")

	addBadRequest("bad-hostname-int", "Hostname sent as int",
		BadHostnameRequest{MDB: MachineIntHostname{Hostname: 3}},
		"wrong type (string) for received field")
	addBadRequest("bad-tags-int-values", "Tags sent as map[string]int",
		BadTagsRequest{MDB: MachineIntTags{Hostname: "h", Tags: map[string]int{"a": 1}}},
		"wrong type (tags.Tags) for received field")
	addBadRequest("bad-groups-int", "OwnerGroups sent as []int",
		BadGroupsRequest{MDB: MachineIntGroups{Hostname: "h", OwnerGroups: []int{1}}},
		"wrong type ([]string) for received field")
	addBadRequest("bad-groups-array", "OwnerGroups sent as [2]string",
		BadArrayGroupsRequest{MDB: MachineArrayGroups{Hostname: "h"}},
		"wrong type ([]string) for received field")
	addBadRequest("bad-aws-string", "AwsMetadata sent as a string",
		BadAwsRequest{MDB: MachineStringAws{Hostname: "h", AwsMetadata: "x"}},
		"want struct type mdb.AwsMetadata")
	addBadRequest("bad-mdb-string", "MDB sent as a string",
		BadMdbRequest{MDB: "h"}, "want struct type mdb.Machine")
	addBadRequest("bad-hostname-bytes", "Hostname sent as []byte",
		BadBytesHostnameRequest{MDB: BytesHostname{Hostname: []byte("h")}},
		"wrong type (string) for received field")
	addBadRequest("bad-request-signed", "Request sent as int",
		SignedKindRequest{MDB: rest, Request: 1},
		"wrong type (uint) for received field")
	addBadRequest("bad-response-as-request",
		"a response struct where a request belongs: no field matches",
		DisruptionCheckResponse{Error: "x", Response: 1},
		"no fields matched")
	addBadRequest("bad-top-level-string", "a plain string value",
		"just a string", "got non-struct")

	for _, state := range []DisruptionState{0, 1, 2, 3} {
		addResponse(fmt.Sprintf("check-response-%s", stateNames[state]),
			DisruptionCheckResponse{Response: state}, "", state)
	}
	addResponse("request-response-error",
		DisruptionRequestResponse{Error: "host<1> & \"two\" not permitted\n",
			Response: 0},
		"host<1> & \"two\" not permitted\n", 0)
	addResponse("cancel-response-error-and-state",
		DisruptionCancelResponse{Error: "odd \u2028 but set", Response: 3},
		"odd \u2028 but set", 3)
	addResponse("rest-response-requested",
		DisruptionResponse{Response: 2}, "", 2)

	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	if err := out.Encode(vectors); err != nil {
		panic(err)
	}
}
