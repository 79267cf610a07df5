// The values a template computes with, typed the way Go's reflection types
// them when text/template executes against an mdb.Machine passed by value.
// Values borrow from the machine record; they live for one execution.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/machine_record.hpp"

namespace dm::tmpl {

using string_list = std::vector<std::string>;
using string_map = std::map<std::string, std::string>;

enum class value_kind : std::uint8_t {
  invalid,      // Go's zero reflect.Value: missing map key, untyped nil
  boolean,      // bool
  int_,         // int: number literals, len, range indexes
  uint8,        // uint8: indexing a string yields a byte
  float64,      // float64: number literals with a point or exponent
  complex128,   // complex128: imaginary literals
  string,       // string
  string_slice, // []string: OwnerGroups, OwnerUsers
  tags,         // tags.Tags (map[string]string): Tags, AwsMetadata.Tags
  machine,      // mdb.Machine
  aws_struct,   // mdb.AwsMetadata, reached through the pointer
  aws_pointer,  // *mdb.AwsMetadata, possibly nil
};

struct value {
  value_kind kind = value_kind::invalid;
  bool boolean = false;
  std::int64_t integer = 0; // int_
  std::uint64_t byte = 0;   // uint8
  double real = 0;          // float64, real part of complex128
  double imag = 0;          // imaginary part of complex128
  std::string text;         // string
  // string_slice: elements [begin, end) of *list; a null list is a nil slice.
  const string_list* list = nullptr;
  std::size_t begin = 0, end = 0;
  const string_map* map = nullptr; // tags; null is a nil map
  const machine_record* machine = nullptr;
  const aws_metadata* aws = nullptr; // aws_struct: never null

  static value of_bool(bool b);
  static value of_int(std::int64_t i);
  static value of_byte(std::uint64_t b);
  static value of_float(double f);
  static value of_complex(double re, double im);
  static value of_string(std::string s);
  // An empty record list or map is a nil one: records arrive through gob
  // or JSON with omitempty, where empty and absent are the same thing.
  static value of_list(const string_list& l);
  static value of_map(const string_map& m);
  static value of_machine(const machine_record& m);
  static value of_aws_pointer(const aws_metadata* a);

  bool valid() const { return kind != value_kind::invalid; }
  std::size_t slice_size() const { return list ? end - begin : 0; }
  const std::string& slice_at(std::size_t i) const {
    return (*list)[begin + i];
  }
};

// Go's reflect.Type.String() of the value: "string", "[]string",
// "tags.Tags", "mdb.Machine", "*mdb.AwsMetadata", ...
std::string type_name(const value& v);

// The exported fields of a struct value (machine or aws_struct), in
// declaration order, as name/value pairs.
std::vector<std::pair<std::string_view, value>> struct_fields(const value& v);

// One field of a struct value by Go name; invalid if there is no such field.
value struct_field(const value& v, std::string_view name);

// Whether the struct type behind v (machine, aws_struct, or what an
// aws_pointer points to) declares a field of that name.
bool has_field(value_kind struct_kind, std::string_view name);

} // namespace dm::tmpl
