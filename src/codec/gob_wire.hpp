// Go encoding/gob's wire format as both directions of the codec see it
// (private to src/codec/gob*.cpp): the predefined type ids, a sender's type
// definitions, and the bounded reader of one message body.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dm::gob_detail {

// Type ids gob predefines; user types start at 64 (Go's firstUserId).
inline constexpr std::int32_t id_bool = 1;
inline constexpr std::int32_t id_int = 2;
inline constexpr std::int32_t id_uint = 3;
inline constexpr std::int32_t id_float = 4;
inline constexpr std::int32_t id_bytes = 5;
inline constexpr std::int32_t id_string = 6;
inline constexpr std::int32_t id_complex = 7;
inline constexpr std::int32_t id_interface = 8;
inline constexpr std::int32_t first_user_id = 64;

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

} // namespace dm::gob_detail
