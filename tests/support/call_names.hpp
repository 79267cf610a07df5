// Short names for tables of calls and answers in tests.
#pragma once

#include "model/machine_record.hpp"

namespace dm::test::call_names {

inline constexpr auto P = disruption_state::permitted;
inline constexpr auto R = disruption_state::requested;
inline constexpr auto D = disruption_state::denied;
inline constexpr auto request = request_kind::request;
inline constexpr auto check = request_kind::check;
inline constexpr auto cancel = request_kind::cancel;

} // namespace dm::test::call_names
