// Package mdb mirrors the field names and types of Dominator's mdb.Machine
// (not its methods), so text/template sees the same shape and type names.
package mdb

import "dmtemplategen/tags"

// AwsMetadata has the same fields as the original.
type AwsMetadata struct {
	AccountId   string
	AccountName string
	InstanceId  string
	Region      string
	Tags        tags.Tags `json:",omitempty"`
}

// Machine has the same fields, in the same order, as the original.
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
	Tags                 tags.Tags    `json:",omitempty"`
	AwsMetadata          *AwsMetadata `json:",omitempty"`
}
