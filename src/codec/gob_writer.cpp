// Go encoding/gob, writing: encoders reproducing the bytes a fresh Go gob
// encoder writes for the service's requests and responses.
#include <string>
#include <string_view>
#include <vector>

#include "codec/gob.hpp"
#include "codec/gob_wire.hpp"

namespace dm {

using namespace gob_detail;

namespace {

// Builds one message body; Go omits zero-valued struct fields and numbers
// the rest by their distance from the previous field sent.
class message_writer {
public:
  void put_uint(std::uint64_t value) {
    if (value <= 0x7f) {
      out_.push_back(static_cast<char>(value));
      return;
    }
    unsigned char bytes[8];
    int count = 0;
    for (std::uint64_t rest = value; rest != 0; rest >>= 8)
      bytes[count++] = static_cast<unsigned char>(rest & 0xff);
    out_.push_back(static_cast<char>(256 - count));
    while (count > 0)
      out_.push_back(static_cast<char>(bytes[--count]));
  }

  void put_int(std::int64_t value) {
    std::uint64_t raw = value < 0
                            ? (static_cast<std::uint64_t>(~value) << 1) | 1
                            : static_cast<std::uint64_t>(value) << 1;
    put_uint(raw);
  }

  void put_string(std::string_view text) {
    put_uint(text.size());
    out_.append(text);
  }

  // Field `index` (from 0) of the struct being written follows.
  void field(int index) {
    put_uint(static_cast<std::uint64_t>(index - last_field_));
    last_field_ = index;
  }

  // Opens a nested struct; returns the enclosing struct's position.
  int begin_struct() {
    int saved = last_field_;
    last_field_ = -1;
    return saved;
  }

  void end_struct(int saved) {
    out_.push_back('\0');
    last_field_ = saved;
  }

  // The body framed as a message: byte count, then the body.
  void frame_into(std::string& stream) const {
    message_writer count;
    count.put_uint(out_.size());
    stream += count.out_;
    stream += out_;
  }

private:
  std::string out_;
  int last_field_ = -1;
};

struct field_def {
  std::string_view name;
  std::int32_t id;
};

// CommonType{Name, Id} as the first field of a wireType member.
void put_common_type(message_writer& w, std::string_view name,
                     std::int32_t id) {
  w.field(0);
  int outer = w.begin_struct();
  if (!name.empty()) {
    w.field(0);
    w.put_string(name);
  }
  if (id != 0) {
    w.field(1);
    w.put_int(id);
  }
  w.end_struct(outer);
}

void put_struct_type(std::string& stream, std::int32_t id,
                     std::string_view name,
                     const std::vector<field_def>& fields) {
  message_writer w;
  w.put_int(-static_cast<std::int64_t>(id));
  int wire = w.begin_struct();
  w.field(2); // wireType.StructT
  int st = w.begin_struct();
  put_common_type(w, name, id);
  if (!fields.empty()) {
    w.field(1);
    w.put_uint(fields.size());
    for (const auto& f : fields) {
      int ft = w.begin_struct();
      w.field(0);
      w.put_string(f.name);
      w.field(1);
      w.put_int(f.id);
      w.end_struct(ft);
    }
  }
  w.end_struct(st);
  w.end_struct(wire);
  w.frame_into(stream);
}

void put_slice_type(std::string& stream, std::int32_t id, std::string_view name,
                    std::int32_t elem) {
  message_writer w;
  w.put_int(-static_cast<std::int64_t>(id));
  int wire = w.begin_struct();
  w.field(1); // wireType.SliceT
  int st = w.begin_struct();
  put_common_type(w, name, id);
  w.field(1);
  w.put_int(elem);
  w.end_struct(st);
  w.end_struct(wire);
  w.frame_into(stream);
}

void put_map_type(std::string& stream, std::int32_t id, std::string_view name,
                  std::int32_t key, std::int32_t elem) {
  message_writer w;
  w.put_int(-static_cast<std::int64_t>(id));
  int wire = w.begin_struct();
  w.field(3); // wireType.MapT
  int st = w.begin_struct();
  put_common_type(w, name, id);
  w.field(1);
  w.put_int(key);
  w.field(2);
  w.put_int(elem);
  w.end_struct(st);
  w.end_struct(wire);
  w.frame_into(stream);
}

void put_string_field(message_writer& w, int index, const std::string& text) {
  if (text.empty())
    return;
  w.field(index);
  w.put_string(text);
}

void put_string_map(message_writer& w,
                    const std::map<std::string, std::string>& values) {
  w.put_uint(values.size());
  for (const auto& [key, value] : values) {
    w.put_string(key);
    w.put_string(value);
  }
}

void put_machine(message_writer& w, const machine_record& m) {
  int outer = w.begin_struct();
  put_string_field(w, 0, m.hostname);
  put_string_field(w, 1, m.data_source_identifier);
  put_string_field(w, 2, m.data_source_type);
  put_string_field(w, 3, m.ip_address);
  put_string_field(w, 4, m.location);
  put_string_field(w, 5, m.required_image);
  put_string_field(w, 6, m.planned_image);
  if (m.disable_updates) {
    w.field(7);
    w.put_uint(1);
  }
  put_string_field(w, 8, m.owner_group);
  for (int index : {9, 10}) {
    const auto& list = index == 9 ? m.owner_groups : m.owner_users;
    if (list.empty())
      continue;
    w.field(index);
    w.put_uint(list.size());
    for (const auto& item : list)
      w.put_string(item);
  }
  if (!m.tags.empty()) {
    w.field(11);
    put_string_map(w, m.tags);
  }
  // A present AwsMetadata is sent even when all its fields are empty: Go
  // sends any non-nil pointer.
  if (m.aws) {
    w.field(12);
    int aws = w.begin_struct();
    put_string_field(w, 0, m.aws->account_id);
    put_string_field(w, 1, m.aws->account_name);
    put_string_field(w, 2, m.aws->instance_id);
    put_string_field(w, 3, m.aws->region);
    if (!m.aws->tags.empty()) {
      w.field(4);
      put_string_map(w, m.aws->tags);
    }
    w.end_struct(aws);
  }
  w.end_struct(outer);
}

std::string encode_state_struct(std::string_view type_name,
                                const std::string* error,
                                disruption_state state, int type_id) {
  std::string stream;
  std::vector<field_def> fields;
  if (error != nullptr)
    fields.push_back({"Error", id_string});
  fields.push_back({"Response", id_uint});
  put_struct_type(stream, type_id, type_name, fields);

  message_writer w;
  w.put_int(type_id);
  int top = w.begin_struct();
  int index = 0;
  if (error != nullptr) {
    put_string_field(w, index, *error);
    ++index;
  }
  if (state != disruption_state::anytime) {
    w.field(index);
    w.put_uint(static_cast<std::uint64_t>(state));
  }
  w.end_struct(top);
  w.frame_into(stream);
  return stream;
}

} // namespace

std::string encode_gob_response(std::string_view type_name,
                                const std::string& error,
                                disruption_state state, int first_type_id) {
  return encode_state_struct(type_name, &error, state, first_type_id);
}

std::string encode_gob_rest_response(disruption_state state,
                                     int first_type_id) {
  return encode_state_struct("DisruptionResponse", nullptr, state,
                             first_type_id);
}

std::string encode_gob_request(std::string_view type_name,
                               const machine_record& machine,
                               int first_type_id) {
  return encode_gob_request(type_name, machine, first_type_id,
                            first_type_id + 1, std::nullopt);
}

std::string encode_gob_request(std::string_view type_name,
                               const machine_record& machine,
                               int request_type_id, int machine_type_id,
                               std::optional<std::uint64_t> request_field) {
  const std::int32_t machine_id = machine_type_id;
  const std::int32_t list_id = machine_type_id + 1;
  const std::int32_t tags_id = machine_type_id + 2;
  const std::int32_t aws_id = machine_type_id + 3;

  // Go sends a struct's definition, then those of its fields' types in field
  // order, depth first, each once.
  std::string stream;
  std::vector<field_def> request_fields{{"MDB", machine_id}};
  if (request_field)
    request_fields.push_back({"Request", id_uint});
  put_struct_type(stream, request_type_id, type_name, request_fields);
  put_struct_type(stream, machine_id, "Machine",
                  {{"Hostname", id_string},
                   {"DataSourceIdentifier", id_string},
                   {"DataSourceType", id_string},
                   {"IpAddress", id_string},
                   {"Location", id_string},
                   {"RequiredImage", id_string},
                   {"PlannedImage", id_string},
                   {"DisableUpdates", id_bool},
                   {"OwnerGroup", id_string},
                   {"OwnerGroups", list_id},
                   {"OwnerUsers", list_id},
                   {"Tags", tags_id},
                   {"AwsMetadata", aws_id}});
  put_slice_type(stream, list_id, "[]string", id_string);
  put_map_type(stream, tags_id, "Tags", id_string, id_string);
  put_struct_type(stream, aws_id, "AwsMetadata",
                  {{"AccountId", id_string},
                   {"AccountName", id_string},
                   {"InstanceId", id_string},
                   {"Region", id_string},
                   {"Tags", tags_id}});

  message_writer w;
  w.put_int(request_type_id);
  int top = w.begin_struct();
  w.field(0); // MDB: a struct field is always sent
  put_machine(w, machine);
  if (request_field && *request_field != 0) {
    w.field(1);
    w.put_uint(*request_field);
  }
  w.end_struct(top);
  w.frame_into(stream);
  return stream;
}

namespace {

// One struct value of string, []byte and bool fields, with its type
// definition first: what a Go encoder writes for a type it has not sent
// before. Empty texts and false are left out, as Go leaves zero values.
struct flat_field {
  std::string_view name;
  std::int32_t id;
  std::string_view text; // string and []byte
  bool flag = false;     // bool
};

std::string encode_flat_struct(std::int32_t type_id, std::string_view name,
                               const std::vector<flat_field>& fields) {
  std::string stream;
  std::vector<field_def> defs;
  for (const auto& f : fields)
    defs.push_back({f.name, f.id});
  put_struct_type(stream, type_id, name, defs);
  message_writer w;
  w.put_int(type_id);
  int top = w.begin_struct();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto& f = fields[i];
    if (f.id == id_bool) {
      if (f.flag) {
        w.field(static_cast<int>(i));
        w.put_uint(1);
      }
    } else if (!f.text.empty()) {
      w.field(static_cast<int>(i));
      w.put_string(f.text);
    }
  }
  w.end_struct(top);
  w.frame_into(stream);
  return stream;
}

// The first and second user types of one call's encoder.
constexpr std::int32_t first_value_type = 65;
constexpr std::int32_t second_value_type = 66;

} // namespace

std::string encode_gob_upgrade_request_one(std::string_view client_cookie) {
  return encode_flat_struct(first_value_type, "localUpgradeToUnixRequestOne",
                            {{"ClientCookie", id_bytes, client_cookie}});
}

std::string encode_gob_upgrade_request_two(bool sent_server_cookie) {
  return encode_flat_struct(
      second_value_type, "localUpgradeToUnixRequestTwo",
      {{"SentServerCookie", id_bool, {}, sent_server_cookie}});
}

std::string
encode_gob_upgrade_response_one(const std::string& error,
                                std::string_view server_cookie,
                                const std::string& socket_pathname) {
  return encode_flat_struct(first_value_type, "localUpgradeToUnixResponseOne",
                            {{"Error", id_string, error},
                             {"ServerCookie", id_bytes, server_cookie},
                             {"SocketPathname", id_string, socket_pathname}});
}

std::string encode_gob_upgrade_response_two(const std::string& error) {
  return encode_flat_struct(second_value_type, "localUpgradeToUnixResponseTwo",
                            {{"Error", id_string, error}});
}

} // namespace dm
