// The type definitions of one call's gob stream, and those of the last few
// calls kept for calls that repeat them (private to src/codec/gob*.cpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codec/gob.hpp"
#include "codec/gob_wire.hpp"

namespace dm::gob_detail {

// Reads an unsigned gob count at the front of `data`.
enum class prefix_result { ok, need_more, bad };

inline prefix_result read_count_prefix(std::string_view data,
                                       std::uint64_t& value,
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

  // Starts a fresh call: keeps the definitions of the last ones that
  // decoded, when small, for calls that repeat them.
  void reset();

  // Consumes type definition messages; stops with done after the first
  // value message, which decode_value(types, reader, error, id, wire)
  // decodes (`wire` is null for a predefined type).
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
        if (!decode_value(types_, in, error_, id, wire))
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
    if (!diverged_)
      diverge();
  }

  // keep_only_repeated's work, once per call: the test above stays inline
  // on the path of every message.
  void diverge();

  // Parses a definition of type `id` into the table.
  bool define_type(std::int32_t id, message_reader& in);

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

} // namespace dm::gob_detail
