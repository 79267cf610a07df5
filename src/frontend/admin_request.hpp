// The admin API's requests (docs/protocol.md, "Admin API"): the operation
// named by the path, its JSON body read into an admin_command, and every
// malformed one refused with a reason naming what is wrong.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "actors/messages.hpp"

namespace dm {

inline constexpr std::string_view admin_path_prefix = "/api/v1/admin/";
// The method power an operator's certificate needs.
inline constexpr std::string_view admin_method = "DisruptionManager.Admin";
// Longest reason text kept.
inline constexpr std::size_t max_reason_bytes = 1024;

struct admin_request {
  std::optional<admin_command> command;
  int status = 400; // when refused: 400, 404 (no such operation) or 405
  std::string error;
};

// The operation `name` (the path after admin_path_prefix) asked with
// `method` and `body`.
admin_request parse_admin_request(std::string_view name,
                                  std::string_view method,
                                  std::string_view body);

// The operation's name as the path and the audit trail say it.
std::string_view admin_operation_name(admin_operation op);
// The operation of that name; nothing if none.
std::optional<admin_operation> admin_operation_named(std::string_view name);

} // namespace dm
