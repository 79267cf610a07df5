// How a machine record maps to its group, the group's limit and its ready
// gate: the tag rules of the disruption manager.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/machine_record.hpp"

namespace dm {

inline constexpr std::string_view tag_group_identifier =
    "DisruptionManagerGroupIdentifier";
inline constexpr std::string_view tag_group_maximum =
    "DisruptionManagerGroupMaximumDisrupting";
inline constexpr std::string_view tag_ready_timeout =
    "DisruptionManagerReadyTimeout";
inline constexpr std::string_view tag_ready_url = "DisruptionManagerReadyUrl";
inline constexpr std::string_view tag_maintenance_window =
    "DisruptionManagerMaintenanceWindow";

// The group tag's value when present (even empty), else the stream of
// RequiredImage (Go's path.Dir of it: "kubelet/2026-11-01.2" -> "kubelet").
std::string group_identifier(const machine_record& machine);

// Go's path.Clean and path.Dir, which the original uses for the stream.
std::string go_path_clean(std::string_view path);
std::string go_path_dir(std::string_view path);

// `group="X"`, or "global group" for the empty identifier, as logs say it.
std::string group_text(std::string_view identifier);

// The group limit tag as a positive integer; anything else means 1.
std::uint64_t group_limit(const machine_record& machine);

// The maintenance window tag's spec (docs/semantics.md, "Maintenance
// windows"), without surrounding white space; empty when the tag is absent
// or empty. A spec that cannot be read gives `error` (naming the tag and
// what is wrong), and the call is refused.
std::string group_windows(const machine_record& machine, std::string& error);

// What holds a slot after a permitted machine cancels.
struct ready_gate {
  std::chrono::nanoseconds timeout{0}; // how long at most the slot is held
  std::string url;                     // expanded ready URL; empty: delay only
};

// The gate a cancel should apply, from the ready tags: nullopt when the
// record asks for none, or when a tag is unusable (then `error` says why and
// no gate applies, as in the original).
std::optional<ready_gate> ready_gate_for(const machine_record& machine,
                                         std::string& error);

} // namespace dm
