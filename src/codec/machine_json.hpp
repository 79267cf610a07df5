// Reads and writes machine records and REST bodies as Go's encoding/json
// does: exact or case-insensitive field names, unknown fields ignored, null
// leaves a field at its zero value, a wrong type is an error with a reason.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "model/machine_record.hpp"

namespace dm {

// A REST body or an SRPC JSON request, decoded.
struct decoded_request {
  machine_record machine;
  std::optional<request_kind> kind; // absent in SRPC requests (method says)
};

// Parses a machine record from a JSON value; on failure returns nullopt and
// sets `error` to a reason fit for a client ("MDB.Tags: expected an object").
std::optional<machine_record> machine_from_json(const nlohmann::json& value,
                                                std::string& error);

// Go's decoder refuses JSON nested deeper than this (its scanner's
// maxNestingDepth), and so do we.
inline constexpr std::size_t go_json_max_depth = 10000;

// The reason a `Request` that is not a string (nor null) is refused with:
// Go reads the field only through its text names.
inline constexpr char request_type_error[] =
    "Request: expected a string (\"check\", \"request\" or \"cancel\")";

// Parses `{"MDB": {...}, "Request": "check"}`. `Request` must be one of
// the names; absent or null, it is `check` (Go's zero value, as the
// original reads it); a number is refused, as Go refuses it. `with_kind`
// is false for SRPC bodies, which have no kind.
// Containers nested deeper than `max_depth` make the text malformed.
std::optional<decoded_request>
parse_request_body(std::string_view text, bool with_kind, std::string& error,
                   std::size_t max_depth = go_json_max_depth);

// A member of a JSON object as Go's decoder finds it: the exact key, else
// a case-insensitive match; nullptr when absent.
const nlohmann::json* find_go_member(const nlohmann::json& object,
                                     const char* name);

// The record as Go's json.Marshal writes it (field order as in mdb.Machine,
// empty fields kept, as Go has no omitempty on them).
nlohmann::json machine_to_json(const machine_record& machine);

} // namespace dm
