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

// What /showState shows (docs/protocol.md, "The dashboard"): without
// `group` and `state`, the groups' summary, a page of groups, and every
// machine when they fit on a page; with either, the machines of that group,
// in that state, a page of them.
struct dashboard_query {
  std::optional<std::string> group; // "" is the global group
  std::optional<view_state> state;  // "all" is view_state::any
  std::uint64_t page = 1;           // from 1
  bool machines() const { return group || state; }
};

// Rows of a dashboard page: groups in the summary, machines in a listing.
inline constexpr std::uint64_t dashboard_rows_per_page = 10000;

// The query of /showState, or why it is refused (a 400's reason).
std::optional<dashboard_query> parse_dashboard_query(std::string_view query,
                                                     std::string& error);
// What the gatherer must gather for the page.
gather_scope dashboard_scope(const dashboard_query& query);
// The counts alone (the status page, the metrics).
gather_scope summary_scope();

// The view is shared: every request that waited for one gathering reads
// the same one, however slowly its client takes the page.
// With a role of a replica, the dashboard names it, the leader and since
// when.
std::unique_ptr<page_writer>
dashboard_writer(std::shared_ptr<const state_view> view, timestamp now,
                 dashboard_query query = {},
                 std::optional<replica_role> role = {});
// With a role of a replica, the document ends with it ("Replica").
std::unique_ptr<page_writer>
state_json_writer(std::shared_ptr<const state_view> view,
                  std::optional<replica_role> role = {});

// Whole pages at once.
std::string render_status_page(const state_view& view, const web_context& ctx,
                               timestamp now);
std::string render_dashboard(state_view view, timestamp now,
                             dashboard_query query = {});
std::string render_state_json(state_view view,
                              std::optional<replica_role> role = {});

// "1h2m3s"-style short durations for tables (Go's time.Duration text
// rounded to the second).
std::string short_duration(std::chrono::nanoseconds d);
std::string html_escape(std::string_view text);
// A time (ns since the epoch) as RFC 3339 in UTC, to the second.
std::string rfc3339(std::int64_t ns);

} // namespace dm
