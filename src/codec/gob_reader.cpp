// Go encoding/gob, reading: a bounded, incremental decoder that matches the
// sender's struct fields to ours by name.
#include <iterator>
#include <limits>
#include <map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "codec/gob.hpp"
#include "codec/gob_type_cache.hpp"
#include "codec/gob_wire.hpp"

namespace dm {

using namespace gob_detail;

namespace {

// Values of recursive types nest as deep as the sender likes; the decoder
// recurses per level, so the depth is capped to keep the stack bounded.
constexpr int max_value_depth = 256;

// Our side of gob's match by name: the Go types a received field may land in.
enum class local_kind {
  boolean,      // bool
  unsigned_int, // uint kinds
  string,       // string
  string_list,  // []string
  string_map,   // map[string]string (tags.Tags)
  machine,      // mdb.Machine
  aws,          // *mdb.AwsMetadata
  bytes,        // []byte
};

const char* go_type_name(local_kind kind) {
  switch (kind) {
  case local_kind::boolean:
    return "bool";
  case local_kind::unsigned_int:
    return "uint";
  case local_kind::string:
    return "string";
  case local_kind::string_list:
    return "[]string";
  case local_kind::string_map:
    return "tags.Tags";
  case local_kind::machine:
    return "mdb.Machine";
  case local_kind::aws:
    return "*mdb.AwsMetadata";
  case local_kind::bytes:
    return "[]uint8";
  }
  return "?";
}

struct local_field {
  std::string_view name;
  local_kind kind;
};

// Where one decoded field value goes.
using value_slot =
    std::variant<bool*, std::optional<std::uint64_t>*, std::string*,
                 std::vector<std::string>*, std::map<std::string, std::string>*,
                 machine_record*, std::optional<aws_metadata>*>;

// The top-level request struct (DisruptionRequest covers the SRPC ones).
struct request_value {
  machine_record mdb;
  std::optional<std::uint64_t> request;
};

struct response_value {
  std::string error;
  std::optional<std::uint64_t> response;
};

template <class T>
struct struct_shape;

template <>
struct struct_shape<machine_record> {
  static constexpr std::string_view go_name = "mdb.Machine";
  static constexpr local_field fields[] = {
      {"Hostname", local_kind::string},
      {"DataSourceIdentifier", local_kind::string},
      {"DataSourceType", local_kind::string},
      {"IpAddress", local_kind::string},
      {"Location", local_kind::string},
      {"RequiredImage", local_kind::string},
      {"PlannedImage", local_kind::string},
      {"DisableUpdates", local_kind::boolean},
      {"OwnerGroup", local_kind::string},
      {"OwnerGroups", local_kind::string_list},
      {"OwnerUsers", local_kind::string_list},
      {"Tags", local_kind::string_map},
      {"AwsMetadata", local_kind::aws},
  };
  static value_slot at(machine_record& m, std::size_t index) {
    switch (index) {
    case 0:
      return &m.hostname;
    case 1:
      return &m.data_source_identifier;
    case 2:
      return &m.data_source_type;
    case 3:
      return &m.ip_address;
    case 4:
      return &m.location;
    case 5:
      return &m.required_image;
    case 6:
      return &m.planned_image;
    case 7:
      return &m.disable_updates;
    case 8:
      return &m.owner_group;
    case 9:
      return &m.owner_groups;
    case 10:
      return &m.owner_users;
    case 11:
      return &m.tags;
    default:
      return &m.aws;
    }
  }
};

template <>
struct struct_shape<aws_metadata> {
  static constexpr std::string_view go_name = "mdb.AwsMetadata";
  static constexpr local_field fields[] = {
      {"AccountId", local_kind::string},  {"AccountName", local_kind::string},
      {"InstanceId", local_kind::string}, {"Region", local_kind::string},
      {"Tags", local_kind::string_map},
  };
  static value_slot at(aws_metadata& a, std::size_t index) {
    switch (index) {
    case 0:
      return &a.account_id;
    case 1:
      return &a.account_name;
    case 2:
      return &a.instance_id;
    case 3:
      return &a.region;
    default:
      return &a.tags;
    }
  }
};

template <>
struct struct_shape<request_value> {
  static constexpr std::string_view go_name =
      "disruptionmanager.DisruptionRequest";
  static constexpr local_field fields[] = {
      {"MDB", local_kind::machine},
      {"Request", local_kind::unsigned_int},
  };
  static value_slot at(request_value& r, std::size_t index) {
    if (index == 0)
      return &r.mdb;
    return &r.request;
  }
};

template <>
struct struct_shape<response_value> {
  static constexpr std::string_view go_name =
      "disruptionmanager.DisruptionResponse";
  static constexpr local_field fields[] = {
      {"Error", local_kind::string},
      {"Response", local_kind::unsigned_int},
  };
  static value_slot at(response_value& r, std::size_t index) {
    if (index == 0)
      return &r.error;
    return &r.response;
  }
};

template <>
struct struct_shape<unix_upgrade_value> {
  static constexpr std::string_view go_name =
      "srpc.localUpgradeToUnixRequestOne";
  static constexpr local_field fields[] = {
      {"ClientCookie", local_kind::bytes},
      {"SentServerCookie", local_kind::boolean},
      {"Error", local_kind::string},
      {"ServerCookie", local_kind::bytes},
      {"SocketPathname", local_kind::string},
  };
  static value_slot at(unix_upgrade_value& v, std::size_t index) {
    switch (index) {
    case 0:
      return &v.client_cookie;
    case 1:
      return &v.sent_server_cookie;
    case 2:
      return &v.error;
    case 3:
      return &v.server_cookie;
    default:
      return &v.socket_pathname;
    }
  }
};

template <class T>
int find_local_field(std::string_view name) {
  const auto& fields = struct_shape<T>::fields;
  for (std::size_t i = 0; i < std::size(fields); ++i)
    if (fields[i].name == name)
      return static_cast<int>(i);
  return -1;
}

// Checks a received type against ours before any value is read (as Go
// compiles its decoder first), then reads values, skipping what we lack.
class value_decoder {
public:
  value_decoder(const type_table& types, message_reader& in, std::string& error)
      : types_(types), in_(in), error_(error) {}

  bool fail(std::string message) { return in_.fail(std::move(message)); }

  const wire_type* user_type(std::int32_t id) const {
    auto it = types_.find(id);
    return it == types_.end() ? nullptr : &it->second;
  }

  // Go's compatibleType for the kinds we have, plus: every type the sender
  // may put where we do not look must be defined, so skipping cannot fail
  // for want of a definition.
  bool check(local_kind kind, std::int32_t id) {
    switch (kind) {
    case local_kind::boolean:
      return id == id_bool;
    case local_kind::unsigned_int:
      return id == id_uint;
    case local_kind::string:
      return id == id_string;
    case local_kind::bytes:
      return id == id_bytes;
    case local_kind::string_list: {
      const wire_type* wire = user_type(id);
      return wire != nullptr && wire->kind == wire_kind::slice &&
             wire->elem == id_string;
    }
    case local_kind::string_map: {
      const wire_type* wire = user_type(id);
      return wire != nullptr && wire->kind == wire_kind::map &&
             wire->key == id_string && wire->elem == id_string;
    }
    case local_kind::machine:
      return check_struct<machine_record>(id);
    case local_kind::aws:
      return check_struct<aws_metadata>(id);
    }
    return false;
  }

  // Errors set the message itself (a false return from check() without a
  // message means "incompatible", which the caller words).
  template <class T>
  bool check_struct(std::int32_t id) {
    const wire_type* wire = user_type(id);
    if (wire == nullptr || wire->kind != wire_kind::structure) {
      if (error_.empty())
        error_ = "gob: type mismatch in decoder: want struct type " +
                 std::string(struct_shape<T>::go_name) + "; got non-struct";
      return false;
    }
    for (const auto& field : wire->fields) {
      if (field.name.empty()) {
        error_ = "gob: empty name for remote field of type " + wire->name;
        return false;
      }
      int local = find_local_field<T>(field.name);
      if (local < 0) {
        if (!check_skippable(field.id))
          return false;
        continue;
      }
      local_kind kind = struct_shape<T>::fields[local].kind;
      if (!check(kind, field.id)) {
        if (error_.empty())
          error_ = "gob: wrong type (" + std::string(go_type_name(kind)) +
                   ") for received field " + wire->name + "." + field.name;
        return false;
      }
    }
    return true;
  }

  // Every type reachable from `id` is predefined or defined. Iterative, as a
  // sender may chain thousands of type definitions.
  bool check_skippable(std::int32_t id) {
    std::vector<std::int32_t> pending{id};
    while (!pending.empty()) {
      std::int32_t next = pending.back();
      pending.pop_back();
      if (next >= id_bool && next <= id_interface)
        continue;
      if (!checked_.insert(next).second)
        continue;
      const wire_type* wire = user_type(next);
      if (wire == nullptr) {
        error_ = "gob: bad data: undefined type " + std::to_string(next);
        return false;
      }
      switch (wire->kind) {
      case wire_kind::map:
        pending.push_back(wire->key);
        pending.push_back(wire->elem);
        break;
      case wire_kind::array:
      case wire_kind::slice:
        pending.push_back(wire->elem);
        break;
      case wire_kind::structure:
        for (const auto& field : wire->fields)
          pending.push_back(field.id);
        break;
      default:
        break;
      }
    }
    return true;
  }

  template <class T>
  bool read_struct(std::int32_t id, T& out, int depth) {
    if (depth > max_value_depth)
      return in_.fail("gob: value nested too deeply");
    const wire_type* wire = user_type(id);
    if (wire == nullptr || wire->kind != wire_kind::structure)
      return in_.fail("gob: type mismatch in decoder: want struct type " +
                      std::string(struct_shape<T>::go_name));
    return read_struct_fields(in_, wire->fields.size(), [&](std::size_t f) {
      const wire_field& field = wire->fields[f];
      int local = find_local_field<T>(field.name);
      if (local < 0)
        return skip(field.id, depth + 1);
      return read_slot(field.id, struct_shape<T>::at(out, local), depth + 1);
    });
  }

  bool skip(std::int32_t id, int depth) {
    if (depth > max_value_depth)
      return in_.fail("gob: value nested too deeply");
    std::uint64_t ignored = 0;
    switch (id) {
    case id_bool:
    case id_int:
    case id_uint:
    case id_float:
      return in_.read_uint(ignored);
    case id_complex:
      return in_.read_uint(ignored) && in_.read_uint(ignored);
    case id_bytes:
      return in_.skip_bytes("[]byte");
    case id_string:
      return in_.skip_bytes("string");
    case id_interface:
      return skip_interface();
    default:
      break;
    }
    const wire_type* wire = user_type(id);
    if (wire == nullptr)
      return in_.fail("gob: bad data: undefined type " + std::to_string(id));
    switch (wire->kind) {
    case wire_kind::array: {
      std::uint64_t count = 0;
      if (!in_.read_count(count, 1, "array"))
        return false;
      if (count != static_cast<std::uint64_t>(wire->length))
        return in_.fail("gob: length mismatch in ignoreArray");
      for (std::uint64_t i = 0; i < count; ++i)
        if (!skip(wire->elem, depth + 1))
          return false;
      return true;
    }
    case wire_kind::slice: {
      std::uint64_t count = 0;
      if (!in_.read_count(count, 1, "slice"))
        return false;
      for (std::uint64_t i = 0; i < count; ++i)
        if (!skip(wire->elem, depth + 1))
          return false;
      return true;
    }
    case wire_kind::map: {
      std::uint64_t count = 0;
      if (!in_.read_count(count, 2, "map"))
        return false;
      for (std::uint64_t i = 0; i < count; ++i)
        if (!skip(wire->key, depth + 1) || !skip(wire->elem, depth + 1))
          return false;
      return true;
    }
    case wire_kind::structure:
      return read_struct_fields(in_, wire->fields.size(), [&](std::size_t f) {
        return skip(wire->fields[f].id, depth + 1);
      });
    case wire_kind::gob_encoder:
    case wire_kind::binary_marshaler:
    case wire_kind::text_marshaler:
      return in_.skip_bytes("GobDecoder data");
    }
    return false;
  }

private:
  // An interface value: concrete type name, type id, byte count, value.
  // When the concrete type is new to the stream, Go splits the value across
  // messages with the definitions in between; that is refused, not guessed.
  bool skip_interface() {
    std::string_view name;
    if (!in_.read_bytes(name, "interface type name"))
      return false;
    if (name.empty())
      return true; // nil interface
    if (in_.remaining() == 0)
      return in_.fail("gob: interface value with a type definition inside a "
                      "value is not supported");
    std::int32_t concrete = 0;
    if (!in_.read_type_id(concrete))
      return false;
    if (concrete < 0)
      return in_.fail("gob: interface value with a type definition inside a "
                      "value is not supported");
    return in_.skip_bytes("interface value");
  }

  bool read_slot(std::int32_t id, value_slot slot, int depth) {
    struct visitor {
      value_decoder& self;
      std::int32_t id;
      int depth;
      bool operator()(bool* out) {
        std::uint64_t value = 0;
        if (!self.in_.read_uint(value))
          return false;
        *out = value != 0;
        return true;
      }
      bool operator()(std::optional<std::uint64_t>* out) {
        std::uint64_t value = 0;
        if (!self.in_.read_uint(value))
          return false;
        *out = value;
        return true;
      }
      bool operator()(std::string* out) {
        std::string_view text;
        if (!self.in_.read_bytes(text, "string"))
          return false;
        out->assign(text);
        return true;
      }
      bool operator()(std::vector<std::string>* out) {
        std::uint64_t count = 0;
        if (!self.in_.read_count(count, 1, "slice"))
          return false;
        out->clear();
        out->reserve(static_cast<std::size_t>(count));
        for (std::uint64_t i = 0; i < count; ++i) {
          std::string_view text;
          if (!self.in_.read_bytes(text, "string"))
            return false;
          out->emplace_back(text);
        }
        return true;
      }
      bool operator()(std::map<std::string, std::string>* out) {
        std::uint64_t count = 0;
        if (!self.in_.read_count(count, 2, "map"))
          return false;
        for (std::uint64_t i = 0; i < count; ++i) {
          std::string_view key;
          std::string_view value;
          if (!self.in_.read_bytes(key, "string") ||
              !self.in_.read_bytes(value, "string"))
            return false;
          // A repeated key overwrites, as assigning into a Go map does.
          out->insert_or_assign(std::string(key), std::string(value));
        }
        return true;
      }
      bool operator()(machine_record* out) {
        return self.read_struct(id, *out, depth);
      }
      bool operator()(std::optional<aws_metadata>* out) {
        if (!*out)
          out->emplace();
        return self.read_struct(id, **out, depth);
      }
    };
    return std::visit(visitor{*this, id, depth}, slot);
  }

  const type_table& types_;
  message_reader& in_;
  std::string& error_;
  std::unordered_set<std::int32_t> checked_;
};

// The top-level value: our struct against the sender's, with Go's extra
// check that a struct sharing no field names is a mismatch, not a zero value.
template <class T>
bool decode_top(value_decoder& values, std::int32_t id, const wire_type* wire,
                T& out) {
  if (wire == nullptr || wire->kind != wire_kind::structure)
    return values.fail("gob: type mismatch in decoder: want struct type " +
                       std::string(struct_shape<T>::go_name) +
                       "; got non-struct");
  if (!values.check_struct<T>(id))
    return false;
  bool matched = wire->fields.empty();
  for (const auto& field : wire->fields)
    if (find_local_field<T>(field.name) >= 0)
      matched = true;
  if (!matched)
    return values.fail(
        "gob: type mismatch: no fields matched compiling decoder for " +
        wire->name);
  return values.read_struct(id, out, 0);
}

// A call's stream and the top-level value it decodes into.
template <class T>
struct stream_and_value {
  explicit stream_and_value(std::size_t max_message_bytes)
      : stream(max_message_bytes) {}

  gob_status feed(std::string_view available, std::size_t& consumed) {
    return stream.feed(available, consumed,
                       [&](const type_table& types, message_reader& in,
                           std::string& error, std::int32_t id,
                           const wire_type* wire) {
                         value_decoder values(types, in, error);
                         return decode_top(values, id, wire, value);
                       });
  }

  gob_stream stream;
  T value;
};

} // namespace

struct gob_request_decoder::impl : stream_and_value<request_value> {
  using stream_and_value::stream_and_value;
};

gob_request_decoder::gob_request_decoder(std::size_t max_message_bytes)
    : impl_(std::make_unique<impl>(max_message_bytes)) {}

gob_request_decoder::~gob_request_decoder() = default;
gob_request_decoder::gob_request_decoder(gob_request_decoder&&) noexcept =
    default;
gob_request_decoder&
gob_request_decoder::operator=(gob_request_decoder&&) noexcept = default;

gob_status gob_request_decoder::feed(std::string_view available,
                                     std::size_t& consumed) {
  return impl_->feed(available, consumed);
}

const machine_record& gob_request_decoder::machine() const {
  return impl_->value.mdb;
}

std::optional<std::uint64_t> gob_request_decoder::request_field() const {
  return impl_->value.request;
}

const std::string& gob_request_decoder::type_name() const {
  return impl_->stream.type_name();
}

const std::string& gob_request_decoder::error() const {
  return impl_->stream.error();
}

void gob_request_decoder::reset() {
  impl_->stream.reset();
  impl_->value = request_value{};
}

struct gob_response_decoder::impl : stream_and_value<response_value> {
  using stream_and_value::stream_and_value;
};

gob_response_decoder::gob_response_decoder(std::size_t max_message_bytes)
    : impl_(std::make_unique<impl>(max_message_bytes)) {}

gob_response_decoder::~gob_response_decoder() = default;
gob_response_decoder::gob_response_decoder(gob_response_decoder&&) noexcept =
    default;
gob_response_decoder&
gob_response_decoder::operator=(gob_response_decoder&&) noexcept = default;

gob_status gob_response_decoder::feed(std::string_view available,
                                      std::size_t& consumed) {
  auto& s = *impl_;
  return s.stream.feed(
      available, consumed,
      [&](const type_table& types, message_reader& in, std::string& error,
          std::int32_t id, const wire_type* wire) {
        value_decoder values(types, in, error);
        if (!decode_top(values, id, wire, s.value))
          return false;
        // Go would keep any number; a client has no use for a state it cannot
        // name, so it is an error here.
        if (s.value.response.value_or(0) > 3)
          return values.fail("gob: invalid DisruptionState: " +
                             std::to_string(*s.value.response));
        return true;
      });
}

const std::string& gob_response_decoder::response_error() const {
  return impl_->value.error;
}

disruption_state gob_response_decoder::state() const {
  auto raw = impl_->value.response.value_or(0);
  return raw <= 3 ? static_cast<disruption_state>(raw)
                  : disruption_state::anytime;
}

const std::string& gob_response_decoder::type_name() const {
  return impl_->stream.type_name();
}

const std::string& gob_response_decoder::error() const {
  return impl_->stream.error();
}

void gob_response_decoder::reset() {
  impl_->stream.reset();
  impl_->value = response_value{};
}

struct gob_upgrade_decoder::impl : stream_and_value<unix_upgrade_value> {
  using stream_and_value::stream_and_value;
};

gob_upgrade_decoder::gob_upgrade_decoder(std::size_t max_message_bytes)
    : impl_(std::make_unique<impl>(max_message_bytes)) {}

gob_upgrade_decoder::~gob_upgrade_decoder() = default;
gob_upgrade_decoder::gob_upgrade_decoder(gob_upgrade_decoder&&) noexcept =
    default;
gob_upgrade_decoder&
gob_upgrade_decoder::operator=(gob_upgrade_decoder&&) noexcept = default;

gob_status gob_upgrade_decoder::feed(std::string_view available,
                                     std::size_t& consumed) {
  return impl_->feed(available, consumed);
}

const unix_upgrade_value& gob_upgrade_decoder::value() const {
  return impl_->value;
}

const std::string& gob_upgrade_decoder::error() const {
  return impl_->stream.error();
}

void gob_upgrade_decoder::next_value() {
  // After a decoded value the stream keeps its types; the next value's
  // definitions (a new type) are added to them.
  impl_->stream.reset();
  impl_->value = unix_upgrade_value{};
}

void gob_upgrade_decoder::reset() {
  impl_ = std::make_unique<impl>(impl_->stream.max_message_bytes());
}

} // namespace dm
