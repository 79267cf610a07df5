// Reads the original Go disruption-manager's state.json (a JSON list of
// groups with Permitted, Requested and Waiting hosts) for migration.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "storage/state_store.hpp"

namespace dm {

// Parses the text of a state.json. Waiting hosts whose ReadyTimeout passed
// before `now` are dropped, as the original does. Queue order follows the
// file's order of Requested hosts.
std::optional<stored_state>
parse_legacy_state(std::string_view text, timestamp now, std::string& error);

// RFC 3339 time as Go's encoding/json writes time.Time.
std::optional<timestamp> parse_rfc3339(std::string_view text);

} // namespace dm
