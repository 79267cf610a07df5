// Go-compatible JSON reading of machine records and request bodies.
#include "codec/machine_json.hpp"

#include <nlohmann/json.hpp>

#include <strings.h>

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
  if (!read_string(*field, "AccountId", aws.account_id, sub, error)
      || !read_string(*field, "AccountName", aws.account_name, sub, error)
      || !read_string(*field, "InstanceId", aws.instance_id, sub, error)
      || !read_string(*field, "Region", aws.region, sub, error)
      || !read_string_map(*field, "Tags", aws.tags, sub, error))
    return false;
  out = std::move(aws);
  return true;
}

bool read_machine(const json& value, machine_record& m,
                  const std::string& path, std::string& error) {
  if (value.is_null())
    return true;
  if (!value.is_object()) {
    error = (path.empty() ? std::string("MDB") : path.substr(0, path.size() - 1))
            + ": expected an object";
    return false;
  }
  return read_string(value, "Hostname", m.hostname, path, error)
         && read_string(value, "DataSourceIdentifier",
                        m.data_source_identifier, path, error)
         && read_string(value, "DataSourceType", m.data_source_type, path,
                        error)
         && read_string(value, "IpAddress", m.ip_address, path, error)
         && read_string(value, "Location", m.location, path, error)
         && read_string(value, "RequiredImage", m.required_image, path, error)
         && read_string(value, "PlannedImage", m.planned_image, path, error)
         && read_bool(value, "DisableUpdates", m.disable_updates, path, error)
         && read_string(value, "OwnerGroup", m.owner_group, path, error)
         && read_strings(value, "OwnerGroups", m.owner_groups, path, error)
         && read_strings(value, "OwnerUsers", m.owner_users, path, error)
         && read_string_map(value, "Tags", m.tags, path, error)
         && read_aws(value, m.aws, path, error);
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

std::optional<decoded_request> parse_request_body(std::string_view text,
                                                  bool require_kind,
                                                  std::string& error) {
  json body = json::parse(text.begin(), text.end(), nullptr, false);
  if (body.is_discarded()) {
    error = "malformed JSON";
    return std::nullopt;
  }
  if (!body.is_object()) {
    error = "request body must be a JSON object";
    return std::nullopt;
  }
  decoded_request result;
  if (const json* mdb = find_field(body, "MDB")) {
    if (!read_machine(*mdb, result.machine, "MDB.", error))
      return std::nullopt;
  }
  // SRPC request structs have no Request field: Go ignores one there.
  const json* kind = require_kind ? find_field(body, "Request") : nullptr;
  if (kind != nullptr && !kind->is_null()) {
    if (kind->is_string()) {
      result.kind = parse_request_kind(kind->get_ref<const std::string&>());
      if (!result.kind) {
        error = "unknown request: " + kind->get<std::string>();
        return std::nullopt;
      }
    } else if (kind->is_number_unsigned() || kind->is_number_integer()) {
      auto number = kind->get<long long>();
      if (number < 0 || number > 2) {
        error = "unknown request: " + std::to_string(number);
        return std::nullopt;
      }
      result.kind = static_cast<request_kind>(number);
    } else {
      error = "Request: expected a string";
      return std::nullopt;
    }
  }
  if (require_kind && !result.kind) {
    error = "missing Request (check, request or cancel)";
    return std::nullopt;
  }
  return result;
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
