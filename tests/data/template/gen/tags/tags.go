// Package tags mirrors the shape of Dominator's tags.Tags so that Go prints
// the same type name ("tags.Tags") in template errors and %T.
package tags

// Tags maps tag keys to values.
type Tags map[string]string
