// The type cache: parsing a sender's type definitions (Go's wireType) into
// the table a call decodes its value with, and what is kept between calls.
#include "codec/gob_type_cache.hpp"

namespace dm::gob_detail {

namespace {

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

} // namespace

void gob_stream::reset() {
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

void gob_stream::diverge() {
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

bool gob_stream::define_type(std::int32_t id, message_reader& in) {
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

} // namespace dm::gob_detail
