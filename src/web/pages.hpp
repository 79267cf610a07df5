// The HTML pages and the state document, rendered from a state_view.
#pragma once

#include <string>

#include "actors/messages.hpp"
#include "web/web_context.hpp"

namespace dm {

std::string render_status_page(const state_view& view, const web_context& ctx,
                               timestamp now);
std::string render_dashboard(const state_view& view, timestamp now);
std::string render_state_json(const state_view& view);

// "1h2m3s"-style short durations for tables (Go's time.Duration text
// rounded to the second).
std::string short_duration(std::chrono::nanoseconds d);
std::string html_escape(std::string_view text);

} // namespace dm
