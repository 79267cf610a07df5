// Go-compatible JSON reading of machine records and request bodies.
#include "codec/machine_json.hpp"

#include <nlohmann/json.hpp>

#include <strings.h>

#include "codec/json_reader.hpp"

namespace dm {

namespace {

using json = nlohmann::json;

const json* find_field(const json& object, const char* name) {
  return find_go_member(object, name);
}

bool read_string(const json& object, const char* name, std::string& out,
                 const std::string& path, std::string& error) {
  const json* field = find_field(object, name);
  if (field == nullptr || field->is_null())
    return true;
  if (!field->is_string()) {
    error = path + name + ": expected a string";
    return false;
  }
  out = field->get<std::string>();
  return true;
}

bool read_bool(const json& object, const char* name, bool& out,
               const std::string& path, std::string& error) {
  const json* field = find_field(object, name);
  if (field == nullptr || field->is_null())
    return true;
  if (!field->is_boolean()) {
    error = path + name + ": expected true or false";
    return false;
  }
  out = field->get<bool>();
  return true;
}

bool read_strings(const json& object, const char* name,
                  std::vector<std::string>& out, const std::string& path,
                  std::string& error) {
  const json* field = find_field(object, name);
  if (field == nullptr || field->is_null())
    return true;
  if (!field->is_array()) {
    error = path + name + ": expected a list of strings";
    return false;
  }
  for (const auto& item : *field) {
    if (!item.is_string()) {
      error = path + name + ": expected a list of strings";
      return false;
    }
    out.push_back(item.get<std::string>());
  }
  return true;
}

bool read_string_map(const json& object, const char* name,
                     std::map<std::string, std::string>& out,
                     const std::string& path, std::string& error) {
  const json* field = find_field(object, name);
  if (field == nullptr || field->is_null())
    return true;
  if (!field->is_object()) {
    error = path + name + ": expected an object of strings";
    return false;
  }
  for (auto it = field->begin(); it != field->end(); ++it) {
    if (!it->is_string()) {
      error = path + name + "." + it.key() + ": expected a string";
      return false;
    }
    out[it.key()] = it->get<std::string>();
  }
  return true;
}

bool read_aws(const json& object, std::optional<aws_metadata>& out,
              const std::string& path, std::string& error) {
  const json* field = find_field(object, "AwsMetadata");
  if (field == nullptr || field->is_null())
    return true;
  if (!field->is_object()) {
    error = path + "AwsMetadata: expected an object";
    return false;
  }
  aws_metadata aws;
  std::string sub = path + "AwsMetadata.";
  if (!read_string(*field, "AccountId", aws.account_id, sub, error) ||
      !read_string(*field, "AccountName", aws.account_name, sub, error) ||
      !read_string(*field, "InstanceId", aws.instance_id, sub, error) ||
      !read_string(*field, "Region", aws.region, sub, error) ||
      !read_string_map(*field, "Tags", aws.tags, sub, error))
    return false;
  out = std::move(aws);
  return true;
}

bool read_machine(const json& value, machine_record& m, const std::string& path,
                  std::string& error) {
  if (value.is_null())
    return true;
  if (!value.is_object()) {
    error =
        (path.empty() ? std::string("MDB") : path.substr(0, path.size() - 1)) +
        ": expected an object";
    return false;
  }
  return read_string(value, "Hostname", m.hostname, path, error) &&
         read_string(value, "DataSourceIdentifier", m.data_source_identifier,
                     path, error) &&
         read_string(value, "DataSourceType", m.data_source_type, path,
                     error) &&
         read_string(value, "IpAddress", m.ip_address, path, error) &&
         read_string(value, "Location", m.location, path, error) &&
         read_string(value, "RequiredImage", m.required_image, path, error) &&
         read_string(value, "PlannedImage", m.planned_image, path, error) &&
         read_bool(value, "DisableUpdates", m.disable_updates, path, error) &&
         read_string(value, "OwnerGroup", m.owner_group, path, error) &&
         read_strings(value, "OwnerGroups", m.owner_groups, path, error) &&
         read_strings(value, "OwnerUsers", m.owner_users, path, error) &&
         read_string_map(value, "Tags", m.tags, path, error) &&
         read_aws(value, m.aws, path, error);
}

} // namespace

// Go's decoder prefers an exact key and falls back to a case-insensitive one.
const json* find_go_member(const json& object, const char* name) {
  auto exact = object.find(name);
  if (exact != object.end())
    return &*exact;
  for (auto it = object.begin(); it != object.end(); ++it)
    if (strcasecmp(it.key().c_str(), name) == 0)
      return &*it;
  return nullptr;
}

std::optional<machine_record> machine_from_json(const json& value,
                                                std::string& error) {
  machine_record machine;
  if (!read_machine(value, machine, "", error))
    return std::nullopt;
  return machine;
}

namespace {

std::string too_deep_error() {
  return "JSON nested deeper than " + std::to_string(go_json_max_depth) +
         " levels";
}

// Reads a request body as Go's decoder does, straight from the text: each
// member matched to its field by name, ignoring case; members in document
// order, so a later duplicate wins; unknown members skipped; null leaves a
// field alone; the first value of a wrong type is the error, reported once
// the whole body is known to be well-formed JSON.
class body_reader {
public:
  body_reader(std::string_view text, std::size_t max_depth)
      : in_(text, max_depth) {}

  std::optional<decoded_request> read(bool with_kind, std::string& error);

private:
  void type_error(std::string text) {
    if (type_error_.empty())
      type_error_ = std::move(text);
    in_.skip_value();
  }
  // True when a value of `kind` follows; null is read and left alone, any
  // other value is a type error (`expected`) and skipped.
  bool value_of(json_kind kind, const std::string& expected) {
    auto next = in_.peek();
    if (next == kind)
      return true;
    if (next == json_kind::null)
      in_.read_null();
    else
      type_error(expected);
    return false;
  }
  // Go sets a slice, map or pointer to nil when it reads null (a later
  // duplicate member can so undo an earlier one); true when it did so.
  template <class Container>
  bool null_clears(Container& out) {
    if (in_.peek() != json_kind::null)
      return false;
    in_.read_null();
    out = Container{};
    return true;
  }
  void string_field(std::string& out, const std::string& name) {
    if (value_of(json_kind::string, name + ": expected a string"))
      in_.read_string(out);
  }
  void strings_field(std::vector<std::string>& out, const std::string& name);
  void map_field(std::map<std::string, std::string>& out,
                 const std::string& name);
  void aws_field(std::optional<aws_metadata>& out, const std::string& path);
  void machine_field(machine_record& m);
  void kind_field(std::optional<request_kind>& kind);

  json_reader in_;
  std::string type_error_;
};

void body_reader::strings_field(std::vector<std::string>& out,
                                const std::string& name) {
  if (null_clears(out))
    return;
  if (!value_of(json_kind::array, name + ": expected a list of strings"))
    return;
  // Go replaces the slice with what the list holds.
  out.clear();
  in_.begin_array();
  while (in_.next_item()) {
    std::string item;
    if (in_.peek() == json_kind::string)
      in_.read_string(item);
    else {
      type_error(name + ": expected a list of strings");
      continue;
    }
    out.push_back(std::move(item));
  }
}

void body_reader::map_field(std::map<std::string, std::string>& out,
                            const std::string& name) {
  if (null_clears(out))
    return;
  if (!value_of(json_kind::object, name + ": expected an object of strings"))
    return;
  in_.begin_object();
  std::string key;
  while (in_.next_member(key)) {
    if (in_.peek() != json_kind::string) {
      type_error(name + "." + key + ": expected a string");
      continue;
    }
    in_.read_string(out[key]);
  }
}

void body_reader::aws_field(std::optional<aws_metadata>& out,
                            const std::string& path) {
  if (null_clears(out))
    return;
  if (!value_of(json_kind::object, path + "AwsMetadata: expected an object"))
    return;
  if (!out)
    out.emplace();
  auto& aws = *out;
  std::string sub = path + "AwsMetadata.";
  in_.begin_object();
  std::string key;
  while (in_.next_member(key)) {
    const char* k = key.c_str();
    if (strcasecmp(k, "AccountId") == 0)
      string_field(aws.account_id, sub + "AccountId");
    else if (strcasecmp(k, "AccountName") == 0)
      string_field(aws.account_name, sub + "AccountName");
    else if (strcasecmp(k, "InstanceId") == 0)
      string_field(aws.instance_id, sub + "InstanceId");
    else if (strcasecmp(k, "Region") == 0)
      string_field(aws.region, sub + "Region");
    else if (strcasecmp(k, "Tags") == 0)
      map_field(aws.tags, sub + "Tags");
    else
      in_.skip_value();
  }
}

void body_reader::machine_field(machine_record& m) {
  if (!value_of(json_kind::object, "MDB: expected an object"))
    return;
  in_.begin_object();
  std::string key;
  while (in_.next_member(key)) {
    const char* k = key.c_str();
    if (strcasecmp(k, "Hostname") == 0)
      string_field(m.hostname, "MDB.Hostname");
    else if (strcasecmp(k, "Tags") == 0)
      map_field(m.tags, "MDB.Tags");
    else if (strcasecmp(k, "RequiredImage") == 0)
      string_field(m.required_image, "MDB.RequiredImage");
    else if (strcasecmp(k, "IpAddress") == 0)
      string_field(m.ip_address, "MDB.IpAddress");
    else if (strcasecmp(k, "DataSourceIdentifier") == 0)
      string_field(m.data_source_identifier, "MDB.DataSourceIdentifier");
    else if (strcasecmp(k, "DataSourceType") == 0)
      string_field(m.data_source_type, "MDB.DataSourceType");
    else if (strcasecmp(k, "Location") == 0)
      string_field(m.location, "MDB.Location");
    else if (strcasecmp(k, "PlannedImage") == 0)
      string_field(m.planned_image, "MDB.PlannedImage");
    else if (strcasecmp(k, "DisableUpdates") == 0) {
      if (value_of(json_kind::boolean,
                   "MDB.DisableUpdates: expected true or false"))
        in_.read_bool(m.disable_updates);
    } else if (strcasecmp(k, "OwnerGroup") == 0)
      string_field(m.owner_group, "MDB.OwnerGroup");
    else if (strcasecmp(k, "OwnerGroups") == 0)
      strings_field(m.owner_groups, "MDB.OwnerGroups");
    else if (strcasecmp(k, "OwnerUsers") == 0)
      strings_field(m.owner_users, "MDB.OwnerUsers");
    else if (strcasecmp(k, "AwsMetadata") == 0)
      aws_field(m.aws, "MDB.");
    else
      in_.skip_value();
  }
}

void body_reader::kind_field(std::optional<request_kind>& kind) {
  switch (in_.peek()) {
  case json_kind::null:
    in_.read_null();
    return;
  case json_kind::string: {
    std::string name;
    in_.read_string(name);
    kind = parse_request_kind(name);
    if (!kind && type_error_.empty())
      type_error_ = "unknown request: " + name;
    return;
  }
  default:
    // Go reads the field only through its text names: a number, like
    // true or a list, is a type error (json.UnmarshalTypeError).
    type_error(request_type_error);
    return;
  }
}

std::optional<decoded_request> body_reader::read(bool with_kind,
                                                 std::string& error) {
  decoded_request result;
  if (in_.peek() != json_kind::object) {
    bool well_formed = in_.skip_value() && in_.at_end();
    error = well_formed      ? "request body must be a JSON object"
            : in_.too_deep() ? too_deep_error()
                             : "malformed JSON";
    return std::nullopt;
  }
  in_.begin_object();
  std::string key;
  while (in_.next_member(key)) {
    if (strcasecmp(key.c_str(), "MDB") == 0)
      machine_field(result.machine);
    else if (with_kind && strcasecmp(key.c_str(), "Request") == 0)
      kind_field(result.kind);
    else // SRPC request structs have no Request field: Go ignores one there.
      in_.skip_value();
  }
  if (!in_.at_end()) {
    error = in_.too_deep() ? too_deep_error() : "malformed JSON";
    return std::nullopt;
  }
  if (!type_error_.empty()) {
    error = type_error_;
    return std::nullopt;
  }
  if (with_kind && !result.kind)
    result.kind = request_kind::check; // Go's zero value
  return result;
}

} // namespace

std::optional<decoded_request> parse_request_body(std::string_view text,
                                                  bool with_kind,
                                                  std::string& error,
                                                  std::size_t max_depth) {
  return body_reader(text, max_depth).read(with_kind, error);
}

json machine_to_json(const machine_record& m) {
  json out = json::object();
  out["Hostname"] = m.hostname;
  out["DataSourceIdentifier"] = m.data_source_identifier;
  out["DataSourceType"] = m.data_source_type;
  out["IpAddress"] = m.ip_address;
  out["Location"] = m.location;
  out["RequiredImage"] = m.required_image;
  out["PlannedImage"] = m.planned_image;
  out["DisableUpdates"] = m.disable_updates;
  out["OwnerGroup"] = m.owner_group;
  out["OwnerGroups"] = m.owner_groups;
  out["OwnerUsers"] = m.owner_users;
  out["Tags"] = m.tags;
  if (m.aws) {
    out["AwsMetadata"] = {{"AccountId", m.aws->account_id},
                          {"AccountName", m.aws->account_name},
                          {"InstanceId", m.aws->instance_id},
                          {"Region", m.aws->region},
                          {"Tags", m.aws->tags}};
  } else {
    out["AwsMetadata"] = nullptr;
  }
  return out;
}

} // namespace dm
