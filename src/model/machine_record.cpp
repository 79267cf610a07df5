// Hostname validation and the wire names of request kinds and states.
#include "model/machine_record.hpp"

#include <cstdio>

#include "text/utf8.hpp"

namespace dm {

std::string control_character_error(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    char32_t r;
    i += utf8::decode_rune(text, i, r);
    if (r < 0x20 || (r >= 0x7F && r <= 0x9F)) {
      char code[16];
      std::snprintf(code, sizeof(code), "U+%04X", static_cast<unsigned>(r));
      return std::string("control character ") + code;
    }
  }
  return {};
}

std::string hostname_error(std::string_view hostname) {
  if (hostname.empty())
    return "MDB.Hostname is required";
  if (auto error = control_character_error(hostname); !error.empty())
    return "MDB.Hostname contains " + error;
  return {};
}

std::string_view to_string(request_kind kind) {
  switch (kind) {
  case request_kind::check:
    return "check";
  case request_kind::request:
    return "request";
  case request_kind::cancel:
    return "cancel";
  }
  return "unknown";
}

std::string_view to_string(disruption_state state) {
  switch (state) {
  case disruption_state::anytime:
    return "anytime";
  case disruption_state::permitted:
    return "permitted";
  case disruption_state::requested:
    return "requested";
  case disruption_state::denied:
    return "denied";
  }
  return "unknown";
}

std::optional<request_kind> parse_request_kind(std::string_view name) {
  if (name == "check")
    return request_kind::check;
  if (name == "request")
    return request_kind::request;
  if (name == "cancel")
    return request_kind::cancel;
  return std::nullopt;
}

std::optional<disruption_state> parse_disruption_state(std::string_view name) {
  if (name == "anytime")
    return disruption_state::anytime;
  if (name == "permitted")
    return disruption_state::permitted;
  if (name == "requested")
    return disruption_state::requested;
  if (name == "denied")
    return disruption_state::denied;
  return std::nullopt;
}

} // namespace dm
