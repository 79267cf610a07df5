// The HTML pages and the state document, rendered from a state_view.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "model/state_view.hpp"
#include "web/web_context.hpp"

namespace dm {

// A page made a piece at a time, so that a large one (the dashboard and the
// state document at 100,000 machines) never sits in memory as one string.
class page_writer {
public:
  virtual ~page_writer() = default;
  // Appends the next piece to `out`: at least `piece_bytes` unless the page
  // ends first. Returns whether more remains.
  virtual bool next(std::string& out, std::size_t piece_bytes) = 0;
};

// The view is shared: every request that waited for one gathering reads
// the same one, however slowly its client takes the page.
std::unique_ptr<page_writer>
dashboard_writer(std::shared_ptr<const state_view> view, timestamp now);
// With a role of a replica, the document ends with it ("Replica").
std::unique_ptr<page_writer>
state_json_writer(std::shared_ptr<const state_view> view,
                  std::optional<replica_role> role = {});

// Whole pages at once.
std::string render_status_page(const state_view& view, const web_context& ctx,
                               timestamp now);
std::string render_dashboard(state_view view, timestamp now);
std::string render_state_json(state_view view,
                              std::optional<replica_role> role = {});

// "1h2m3s"-style short durations for tables (Go's time.Duration text
// rounded to the second).
std::string short_duration(std::chrono::nanoseconds d);
std::string html_escape(std::string_view text);
// A time (ns since the epoch) as RFC 3339 in UTC, to the second.
std::string rfc3339(std::int64_t ns);

} // namespace dm
