// Go typing of template values: constructors, type names and the field
// layout of mdb.Machine and mdb.AwsMetadata.
#include "template/template_value.hpp"

namespace dm::tmpl {
namespace {

constexpr std::string_view machine_field_names[] = {
    "Hostname",   "DataSourceIdentifier", "DataSourceType", "IpAddress",
    "Location",   "RequiredImage",        "PlannedImage",   "DisableUpdates",
    "OwnerGroup", "OwnerGroups",          "OwnerUsers",     "Tags",
    "AwsMetadata"};

constexpr std::string_view aws_field_names[] = {"AccountId", "AccountName",
                                                "InstanceId", "Region", "Tags"};

value machine_field(const machine_record& m, std::size_t index) {
  switch (index) {
  case 0:
    return value::of_string(m.hostname);
  case 1:
    return value::of_string(m.data_source_identifier);
  case 2:
    return value::of_string(m.data_source_type);
  case 3:
    return value::of_string(m.ip_address);
  case 4:
    return value::of_string(m.location);
  case 5:
    return value::of_string(m.required_image);
  case 6:
    return value::of_string(m.planned_image);
  case 7:
    return value::of_bool(m.disable_updates);
  case 8:
    return value::of_string(m.owner_group);
  case 9:
    return value::of_list(m.owner_groups);
  case 10:
    return value::of_list(m.owner_users);
  case 11:
    return value::of_map(m.tags);
  default:
    return value::of_aws_pointer(m.aws ? &*m.aws : nullptr);
  }
}

value aws_field(const aws_metadata& a, std::size_t index) {
  switch (index) {
  case 0:
    return value::of_string(a.account_id);
  case 1:
    return value::of_string(a.account_name);
  case 2:
    return value::of_string(a.instance_id);
  case 3:
    return value::of_string(a.region);
  default:
    return value::of_map(a.tags);
  }
}

} // namespace

value value::of_bool(bool b) {
  value v;
  v.kind = value_kind::boolean;
  v.boolean = b;
  return v;
}

value value::of_int(std::int64_t i) {
  value v;
  v.kind = value_kind::int_;
  v.integer = i;
  return v;
}

value value::of_byte(std::uint64_t b) {
  value v;
  v.kind = value_kind::uint8;
  v.byte = b;
  return v;
}

value value::of_float(double f) {
  value v;
  v.kind = value_kind::float64;
  v.real = f;
  return v;
}

value value::of_complex(double re, double im) {
  value v;
  v.kind = value_kind::complex128;
  v.real = re;
  v.imag = im;
  return v;
}

value value::of_string(std::string s) {
  value v;
  v.kind = value_kind::string;
  v.text = std::move(s);
  return v;
}

value value::of_list(const string_list& l) {
  value v;
  v.kind = value_kind::string_slice;
  if (!l.empty()) {
    v.list = &l;
    v.end = l.size();
  }
  return v;
}

value value::of_map(const string_map& m) {
  value v;
  v.kind = value_kind::tags;
  if (!m.empty())
    v.map = &m;
  return v;
}

value value::of_machine(const machine_record& m) {
  value v;
  v.kind = value_kind::machine;
  v.machine = &m;
  return v;
}

value value::of_aws_pointer(const aws_metadata* a) {
  value v;
  v.kind = value_kind::aws_pointer;
  v.aws = a;
  return v;
}

std::string type_name(const value& v) {
  switch (v.kind) {
  case value_kind::invalid:
    return "<nil>";
  case value_kind::boolean:
    return "bool";
  case value_kind::int_:
    return "int";
  case value_kind::uint8:
    return "uint8";
  case value_kind::float64:
    return "float64";
  case value_kind::complex128:
    return "complex128";
  case value_kind::string:
    return "string";
  case value_kind::string_slice:
    return "[]string";
  case value_kind::tags:
    return "tags.Tags";
  case value_kind::machine:
    return "mdb.Machine";
  case value_kind::aws_struct:
    return "mdb.AwsMetadata";
  case value_kind::aws_pointer:
    return "*mdb.AwsMetadata";
  }
  return "?";
}

std::vector<std::pair<std::string_view, value>> struct_fields(const value& v) {
  std::vector<std::pair<std::string_view, value>> fields;
  if (v.kind == value_kind::machine) {
    for (std::size_t i = 0; i < std::size(machine_field_names); ++i)
      fields.emplace_back(machine_field_names[i], machine_field(*v.machine, i));
  } else if (v.kind == value_kind::aws_struct) {
    for (std::size_t i = 0; i < std::size(aws_field_names); ++i)
      fields.emplace_back(aws_field_names[i], aws_field(*v.aws, i));
  }
  return fields;
}

value struct_field(const value& v, std::string_view name) {
  if (v.kind == value_kind::machine) {
    for (std::size_t i = 0; i < std::size(machine_field_names); ++i)
      if (machine_field_names[i] == name)
        return machine_field(*v.machine, i);
  } else if (v.kind == value_kind::aws_struct) {
    for (std::size_t i = 0; i < std::size(aws_field_names); ++i)
      if (aws_field_names[i] == name)
        return aws_field(*v.aws, i);
  }
  return value{};
}

bool has_field(value_kind struct_kind, std::string_view name) {
  if (struct_kind == value_kind::machine) {
    for (auto field : machine_field_names)
      if (field == name)
        return true;
  } else if (struct_kind == value_kind::aws_struct ||
             struct_kind == value_kind::aws_pointer) {
    for (auto field : aws_field_names)
      if (field == name)
        return true;
  }
  return false;
}

} // namespace dm::tmpl
