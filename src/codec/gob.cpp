// Go encoding/gob: a bounded, incremental decoder that matches the sender's
// struct fields to ours by name, and encoders reproducing Go's bytes.
#include "codec/gob.hpp"

#include <algorithm>
#include <iterator>
#include <limits>
#include <map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

namespace dm {

namespace {

// Type ids gob predefines; user types start at 64 (Go's firstUserId).
constexpr std::int32_t id_bool = 1;
constexpr std::int32_t id_int = 2;
constexpr std::int32_t id_uint = 3;
constexpr std::int32_t id_float = 4;
constexpr std::int32_t id_bytes = 5;
constexpr std::int32_t id_string = 6;
constexpr std::int32_t id_complex = 7;
constexpr std::int32_t id_interface = 8;
constexpr std::int32_t first_user_id = 64;

// Values of recursive types nest as deep as the sender likes; the decoder
// recurses per level, so the depth is capped to keep the stack bounded.
constexpr int max_value_depth = 256;

// ---------------------------------------------------------------------------
// Reading

// In the order of wireType's fields, so a field number is its kind.
enum class wire_kind {
  array,
  slice,
  structure,
  map,
  gob_encoder,
  binary_marshaler,
  text_marshaler,
};

struct wire_field {
  std::string name;
  std::int32_t id = 0;
};

// A sender's type definition (Go's wireType, flattened).
struct wire_type {
  wire_kind kind = wire_kind::structure;
  std::string name;
  std::int32_t elem = 0;          // array, slice, map
  std::int32_t key = 0;           // map
  std::int64_t length = 0;        // array
  std::vector<wire_field> fields; // struct
};

using type_table = std::map<std::int32_t, wire_type>;

// A cursor over one message body. Every read checks the bytes left, so
// declared lengths and counts never lead past the message or into large
// allocations. Failures set the shared error text and return false.
class message_reader {
public:
  message_reader(std::string_view data, std::string& error)
      : data_(data), error_(error) {}

  std::size_t remaining() const { return data_.size() - pos_; }

  bool fail(std::string message) {
    error_ = std::move(message);
    return false;
  }

  bool read_uint(std::uint64_t& out) {
    if (pos_ >= data_.size())
      return fail("gob: unexpected end of message");
    auto first = static_cast<unsigned char>(data_[pos_]);
    if (first <= 0x7f) {
      out = first;
      ++pos_;
      return true;
    }
    // A byte count, negated: 0xff means one byte follows, 0xf8 eight.
    std::size_t width = 256 - first;
    if (width > 8)
      return fail("gob: encoded unsigned integer out of range");
    if (remaining() - 1 < width)
      return fail("gob: invalid uint data length " + std::to_string(width) +
                  ": exceeds input size " + std::to_string(remaining() - 1));
    std::uint64_t value = 0;
    for (std::size_t i = 1; i <= width; ++i)
      value = (value << 8) | static_cast<unsigned char>(data_[pos_ + i]);
    pos_ += 1 + width;
    out = value;
    return true;
  }

  bool read_int(std::int64_t& out) {
    std::uint64_t raw = 0;
    if (!read_uint(raw))
      return false;
    auto half = static_cast<std::int64_t>(raw >> 1);
    out = (raw & 1) != 0 ? ~half : half;
    return true;
  }

  // Type ids are int32 in Go; anything wider is corrupt data.
  bool read_type_id(std::int32_t& out) {
    std::int64_t value = 0;
    if (!read_int(value))
      return false;
    if (value < -std::int64_t{std::numeric_limits<std::int32_t>::max()} ||
        value > std::numeric_limits<std::int32_t>::max())
      return fail("gob: type id out of range: " + std::to_string(value));
    out = static_cast<std::int32_t>(value);
    return true;
  }

  // A count of items each taking at least `min_item_bytes` bytes.
  bool read_count(std::uint64_t& out, std::size_t min_item_bytes,
                  const char* what) {
    if (!read_uint(out))
      return false;
    if (out > remaining() / min_item_bytes)
      return fail(std::string("gob: ") + what + " count " +
                  std::to_string(out) + " exceeds input size " +
                  std::to_string(remaining()));
    return true;
  }

  bool read_bytes(std::string_view& out, const char* what) {
    std::uint64_t length = 0;
    if (!read_uint(length))
      return false;
    if (length > remaining())
      return fail(std::string("gob: invalid ") + what + " length " +
                  std::to_string(length) + ": exceeds input size " +
                  std::to_string(remaining()));
    out = data_.substr(pos_, static_cast<std::size_t>(length));
    pos_ += static_cast<std::size_t>(length);
    return true;
  }

  bool skip_bytes(const char* what) {
    std::string_view ignored;
    return read_bytes(ignored, what);
  }

private:
  std::string_view data_;
  std::size_t pos_ = 0;
  std::string& error_;
};

// Walks the fields of a struct value: calls on_field(field_number) for each
// (field_number counts from 0), which must read that field's value. A struct
// ends at a zero delta or, as in Go, at the end of the message.
template <class OnField>
bool read_struct_fields(message_reader& in, std::size_t field_count,
                        OnField&& on_field) {
  std::int64_t field = -1;
  while (in.remaining() > 0) {
    std::uint64_t delta = 0;
    if (!in.read_uint(delta))
      return false;
    if (delta == 0)
      return true;
    if (delta > field_count - static_cast<std::size_t>(field + 1))
      return in.fail("gob: bad data: field numbers out of bounds");
    field += static_cast<std::int64_t>(delta);
    if (!on_field(static_cast<std::size_t>(field)))
      return false;
  }
  return true;
}

// CommonType {Name string; Id typeId}: only the name is kept.
bool read_common_type(message_reader& in, std::string& name) {
  return read_struct_fields(in, 2, [&](std::size_t field) {
    if (field == 0) {
      std::string_view text;
      if (!in.read_bytes(text, "type name"))
        return false;
      name.assign(text);
      return true;
    }
    std::int32_t ignored = 0;
    return in.read_type_id(ignored);
  });
}

bool read_field_type(message_reader& in, wire_field& out) {
  return read_struct_fields(in, 2, [&](std::size_t field) {
    if (field == 0) {
      std::string_view text;
      if (!in.read_bytes(text, "field name"))
        return false;
      out.name.assign(text);
      return true;
    }
    return in.read_type_id(out.id);
  });
}

// Reads one wireType value: exactly one of its seven pointer fields is set.
bool read_wire_type(message_reader& in, wire_type& out) {
  int kinds = 0;
  bool ok = read_struct_fields(in, 7, [&](std::size_t field) {
    ++kinds;
    out.kind = static_cast<wire_kind>(field);
    switch (out.kind) {
    case wire_kind::array:
      return read_struct_fields(in, 3, [&](std::size_t f) {
        if (f == 0)
          return read_common_type(in, out.name);
        if (f == 1)
          return in.read_type_id(out.elem);
        return in.read_int(out.length);
      });
    case wire_kind::slice:
      return read_struct_fields(in, 2, [&](std::size_t f) {
        if (f == 0)
          return read_common_type(in, out.name);
        return in.read_type_id(out.elem);
      });
    case wire_kind::structure:
      return read_struct_fields(in, 2, [&](std::size_t f) {
        if (f == 0)
          return read_common_type(in, out.name);
        // A field needs a name, so at least three bytes: this bounds the
        // allocation by the message size.
        std::uint64_t count = 0;
        if (!in.read_count(count, 3, "struct field"))
          return false;
        out.fields.clear();
        out.fields.resize(static_cast<std::size_t>(count));
        for (auto& wf : out.fields) {
          if (!read_field_type(in, wf))
            return false;
          if (wf.name.empty())
            return in.fail("gob: empty name for remote field of type " +
                           out.name);
        }
        return true;
      });
    case wire_kind::map:
      return read_struct_fields(in, 3, [&](std::size_t f) {
        if (f == 0)
          return read_common_type(in, out.name);
        if (f == 1)
          return in.read_type_id(out.key);
        return in.read_type_id(out.elem);
      });
    case wire_kind::gob_encoder:
    case wire_kind::binary_marshaler:
    case wire_kind::text_marshaler:
      return read_struct_fields(
          in, 1, [&](std::size_t) { return read_common_type(in, out.name); });
    }
    return false;
  });
  if (!ok)
    return false;
  if (kinds != 1)
    return in.fail(kinds == 0
                       ? "gob: bad data: empty type definition"
                       : "gob: bad data: type definition of several kinds");
  if (out.kind == wire_kind::array && out.length < 0)
    return in.fail("gob: bad data: negative array length");
  return true;
}

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

// Reads an unsigned gob count at the front of `data`.
enum class prefix_result { ok, need_more, bad };

prefix_result read_count_prefix(std::string_view data, std::uint64_t& value,
                                std::size_t& width) {
  if (data.empty())
    return prefix_result::need_more;
  auto first = static_cast<unsigned char>(data[0]);
  if (first <= 0x7f) {
    value = first;
    width = 1;
    return prefix_result::ok;
  }
  std::size_t bytes = 256 - first;
  if (bytes > 8)
    return prefix_result::bad;
  if (data.size() < 1 + bytes)
    return prefix_result::need_more;
  value = 0;
  for (std::size_t i = 1; i <= bytes; ++i)
    value = (value << 8) | static_cast<unsigned char>(data[i]);
  width = 1 + bytes;
  return prefix_result::ok;
}

// Framing and type definitions of one call's gob stream; the value message,
// once complete, is handed to the decoder that owns this.
//
// A Go SRPC client makes a new encoder per call, so every call on a
// connection sends its type definitions again, nearly always the same
// bytes. Parsing them was about half of a gob call's user-space work. The
// definitions of the last few calls that decoded are kept, each set with
// the table it built, and a call's first definition picks the set (check,
// request and cancel differ in their first one). A call whose definitions
// repeat the set byte for byte uses its table; the first one that differs
// (or a value that comes before all of them were repeated) brings the
// table back to what this call has defined so far. Either way a call sees
// exactly the types it defined.
class gob_stream {
public:
  explicit gob_stream(std::size_t max_message_bytes)
      : max_message_bytes_(max_message_bytes == 0 ? 1 : max_message_bytes) {}

  void reset() {
    // Kept only after a call that decoded, and only when small: an idle
    // connection should not hold a hostile sender's megabyte.
    if (status_ != gob_status::done)
      others_.clear();
    if (status_ != gob_status::done || type_bytes_ > max_kept_bytes) {
      kept_.clear();
      types_.clear();
    }
    std::size_t bytes = others_.empty() ? 0 : bytes_of(kept_);
    for (std::size_t i = 0; i < others_.size(); ++i) {
      bytes += bytes_of(others_[i].bodies);
      if (i + 1 > max_other_sets || bytes > max_kept_bytes) {
        others_.resize(i);
        break;
      }
    }
    repeated_ = 0;
    diverged_ = false;
    type_bytes_ = 0;
    status_ = gob_status::need_more;
    error_.clear();
    type_name_.clear();
  }

  // Consumes type definition messages; stops with done (and the value's
  // body and type id set) after the first value message.
  template <class DecodeValue>
  gob_status feed(std::string_view available, std::size_t& consumed,
                  DecodeValue&& decode_value) {
    consumed = 0;
    if (status_ != gob_status::need_more)
      return status_;
    while (true) {
      std::string_view rest = available.substr(consumed);
      std::uint64_t length = 0;
      std::size_t width = 0;
      switch (read_count_prefix(rest, length, width)) {
      case prefix_result::need_more:
        return gob_status::need_more;
      case prefix_result::bad:
        return fail("gob: encoded unsigned integer out of range");
      case prefix_result::ok:
        break;
      }
      if (length == 0)
        return fail("gob: empty message");
      if (length > max_message_bytes_)
        return fail("gob: message of " + std::to_string(length) +
                    " bytes exceeds the limit of " +
                    std::to_string(max_message_bytes_));
      if (rest.size() - width < length)
        return gob_status::need_more;
      std::string_view body =
          rest.substr(width, static_cast<std::size_t>(length));
      consumed += width + static_cast<std::size_t>(length);

      message_reader in(body, error_);
      std::int32_t id = 0;
      if (!in.read_type_id(id))
        return fail_with_error();
      if (id >= 0) {
        keep_only_repeated();
        const wire_type* wire = nullptr;
        if (auto it = types_.find(id); it != types_.end())
          wire = &it->second;
        if (wire == nullptr && (id < id_bool || id > id_interface))
          return fail("gob: unknown type id or corrupted data");
        if (wire != nullptr)
          type_name_ = wire->name;
        value_decoder values(types_, in, error_);
        if (!decode_value(values, id, wire))
          return fail_with_error();
        // Bytes after the value are dropped, as Go's Decode does.
        status_ = gob_status::done;
        return status_;
      }
      type_bytes_ += body.size();
      if (type_bytes_ > max_message_bytes_)
        return fail("gob: type definitions exceed " +
                    std::to_string(max_message_bytes_) + " bytes");
      if (repeats_kept(body))
        continue;
      if (!define_type(-id, in))
        return fail_with_error();
      kept_.emplace_back(body);
    }
  }

  gob_status status() const { return status_; }
  std::size_t max_message_bytes() const { return max_message_bytes_; }
  const std::string& error() const { return error_; }
  const std::string& type_name() const { return type_name_; }

private:
  // A set of definitions that decoded a call, and the table they built.
  struct definition_set {
    std::vector<std::string> bodies;
    type_table types;
  };

  static constexpr std::size_t max_kept_bytes = 16 * 1024;
  static constexpr std::size_t max_other_sets = 3;

  static std::size_t bytes_of(const std::vector<std::string>& bodies) {
    std::size_t bytes = 0;
    for (const auto& body : bodies)
      bytes += body.size();
    return bytes;
  }

  // Puts the set in use aside, most recent first, for a later call.
  void set_aside() {
    if (kept_.empty())
      return;
    others_.insert(others_.begin(),
                   definition_set{std::move(kept_), std::move(types_)});
    kept_.clear();
    types_.clear();
  }

  // True when `body` is the next of the kept definitions, whose type the
  // table already holds.
  bool repeats_kept(std::string_view body) {
    if (diverged_)
      return false;
    if (repeated_ == 0 && (kept_.empty() || kept_.front() != body)) {
      auto found = std::find_if(others_.begin(), others_.end(),
                                [&](const definition_set& set) {
                                  return set.bodies.front() == body;
                                });
      if (found != others_.end()) {
        definition_set chosen = std::move(*found);
        others_.erase(found);
        set_aside();
        kept_ = std::move(chosen.bodies);
        types_ = std::move(chosen.types);
      }
    }
    if (repeated_ < kept_.size() && kept_[repeated_] == body) {
      ++repeated_;
      return true;
    }
    keep_only_repeated();
    return false;
  }

  // From here on this call defines its own types: the table keeps only
  // those of the definitions it repeated (rebuilt from their bytes, which
  // parsed before in the same order).
  void keep_only_repeated() {
    if (diverged_)
      return;
    diverged_ = true;
    if (repeated_ == kept_.size())
      return;
    if (repeated_ == 0) {
      set_aside();
      return;
    }
    kept_.resize(repeated_);
    types_.clear();
    for (const auto& body : kept_) {
      message_reader in(body, error_);
      std::int32_t id = 0;
      [[maybe_unused]] bool ok = in.read_type_id(id) && define_type(-id, in);
    }
  }

  bool define_type(std::int32_t id, message_reader& in) {
    if (id < first_user_id || types_.count(id) != 0)
      return in.fail("gob: duplicate type received");
    wire_type wire;
    if (!read_wire_type(in, wire))
      return false;
    if (in.remaining() != 0)
      return in.fail("gob: extra data in buffer");
    types_.emplace(id, std::move(wire));
    return true;
  }

  gob_status fail(std::string message) {
    error_ = std::move(message);
    status_ = gob_status::error;
    return status_;
  }

  gob_status fail_with_error() {
    if (error_.empty())
      error_ = "gob: corrupted data";
    status_ = gob_status::error;
    return status_;
  }

  std::size_t max_message_bytes_;
  type_table types_;
  // Bodies of the definition messages that built `types_`, in order.
  std::vector<std::string> kept_;
  // Sets kept from earlier calls, most recent first.
  std::vector<definition_set> others_;
  // How many of them this call has sent again so far, before it diverged.
  std::size_t repeated_ = 0;
  bool diverged_ = false;
  std::size_t type_bytes_ = 0;
  gob_status status_ = gob_status::need_more;
  std::string error_;
  std::string type_name_;
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
    return stream.feed(
        available, consumed,
        [&](value_decoder& values, std::int32_t id, const wire_type* wire) {
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
      [&](value_decoder& values, std::int32_t id, const wire_type* wire) {
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

// ---------------------------------------------------------------------------
// Writing

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
