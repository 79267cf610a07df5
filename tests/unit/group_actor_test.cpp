// The actors together under CAF's testing scheduler: virtual time drives
// expiry, ready waits and probes; the real storage actor writes to a temp
// directory, so answers are checked against what is on disk.
#include <gtest/gtest.h>

#include <caf/all.hpp>

#include <random>

#include "actors/router.hpp"
#include "actors/storage.hpp"
#include "actors/timer.hpp"
#include "storage/file_store.hpp"
#include "tests/support/recording_sink.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dm;
using namespace std::chrono_literals;

namespace {

// Stands in for the machines' ready endpoints: the status each URL answers.
class scripted_fetcher final : public url_fetcher {
public:
  int get_status(const std::string& url, std::chrono::nanoseconds,
                 std::string& error) const override {
    ++calls;
    auto it = status.find(url);
    if (it == status.end()) {
      error = "connection refused";
      return -1;
    }
    return it->second;
  }
  std::map<std::string, int> status;
  mutable int calls = 0;
};

struct actor_fixture : ::testing::Test {
  test::temp_dir dir;
  std::shared_ptr<scripted_fetcher> fetcher =
      std::make_shared<scripted_fetcher>();
  std::unique_ptr<caf::actor_system_config> cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  router_actor router_handle;
  storage_actor storage_handle;
  // Virtual time plus this is the wall clock the groups read.
  std::chrono::nanoseconds wall_offset{0};
  std::chrono::nanoseconds max_duration = 1h;
  timer_actor timer_handle;

  actor_fixture() { boot(); }
  ~actor_fixture() override { shut_down(); }

  void boot() {
    cfg = std::make_unique<caf::actor_system_config>();
    cfg->set("scheduler.policy", caf::atom("testing"));
    cfg->set("logger.file-verbosity", caf::atom("quiet"));
    cfg->set("logger.console", caf::atom("none"));
    sys = std::make_unique<caf::actor_system>(*cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    std::string error;
    std::vector<std::string> notes;
    file_store_options options;
    options.directory = dir.path();
    std::shared_ptr<file_store> store = file_store::open(options, error, notes);
    ASSERT_TRUE(store) << error;
    auto initial = store->loaded();
    storage_handle = sys->spawn(storage, store, std::vector<synced_listener>{});
    group_settings settings;
    settings.max_duration = max_duration;
    settings.wall_offset = wall_offset;
    settings.storage = storage_handle;
    timer_handle = sys->spawn(timer, settings.wall_offset);
    settings.timer = timer_handle;
    settings.fetcher = fetcher;
    settings.detached_probers = false;
    router_handle = sys->spawn(router, initial, settings);
    sched->run();
  }

  void shut_down() {
    if (!sys)
      return;
    caf::anon_send_exit(router_handle, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(storage_handle, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(timer_handle, caf::exit_reason::user_shutdown);
    router_handle = nullptr;
    storage_handle = nullptr;
    timer_handle = nullptr;
    sched->run();
    sys.reset();
    cfg.reset();
  }

  // Like a crash and restart: the actors go, the directory stays.
  void restart() {
    shut_down();
    boot();
  }

  // Moves virtual time forward in steps of at most a second, so timers set
  // while handling earlier ones fire in their turn.
  void advance(caf::timespan d) {
    const caf::timespan step = std::chrono::seconds(1);
    while (d > caf::timespan{0}) {
      auto now = std::min(d, step);
      sched->clock().advance_time(now);
      sched->run();
      d -= now;
    }
  }

  disruption_state call(request_kind kind, const std::string& host,
                        std::map<std::string, std::string> tags = {}) {
    machine_record m;
    m.hostname = host;
    m.tags = std::move(tags);
    if (!m.tags.count("DisruptionManagerGroupIdentifier"))
      m.tags["DisruptionManagerGroupIdentifier"] = "G";
    disruption_call c;
    c.kind = kind;
    c.host = host;
    c.group = group_identifier(m);
    c.limit = group_limit(m);
    if (kind == request_kind::cancel) {
      std::string error;
      if (auto gate = ready_gate_for(m, error)) {
        c.has_gate = true;
        c.gate_timeout_ns = gate->timeout.count();
        c.gate_url = gate->url;
      }
    }
    auto sink = std::make_shared<test::recording_sink>();
    c.reply = reply_to(sink, 7);
    caf::anon_send(router_handle, operate_atom::value, std::move(c));
    sched->run();
    disruption_state answer = disruption_state::anytime;
    if (sink->answers.size() != 1) {
      ADD_FAILURE() << sink->answers.size() << " answers to one call";
      return answer;
    }
    EXPECT_EQ(sink->answers[0].first, 7u);
    if (!sink->answers[0].second.error.empty())
      ADD_FAILURE() << sink->answers[0].second.error;
    return sink->answers[0].second.state;
  }

  state_view snapshot() {
    caf::scoped_actor self{*sys};
    auto handle =
        self->request(router_handle, caf::infinite, snapshot_atom::value);
    sched->run();
    state_view view;
    handle.receive([&](state_view& v) { view = std::move(v); },
                   [&](caf::error& e) { ADD_FAILURE() << sys->render(e); });
    return view;
  }

  std::string state_of(const std::string& host) {
    for (auto& g : snapshot().groups)
      for (auto& m : g.machines)
        if (m.host == host)
          return m.state;
    return "denied";
  }

  stored_state on_disk() {
    std::string error;
    std::vector<std::string> notes;
    file_store_options options;
    options.directory = dir.path();
    auto store = file_store::open(options, error, notes);
    EXPECT_TRUE(store) << error;
    return store ? store->loaded() : stored_state{};
  }
};

constexpr auto P = disruption_state::permitted;
constexpr auto R = disruption_state::requested;
constexpr auto D = disruption_state::denied;
constexpr auto request = request_kind::request;
constexpr auto check = request_kind::check;
constexpr auto cancel = request_kind::cancel;

} // namespace

TEST_F(actor_fixture, permit_is_on_disk_when_announced) {
  EXPECT_EQ(call(request, "a"), P);
  auto disk = on_disk();
  ASSERT_TRUE(disk.groups.count("G"));
  EXPECT_TRUE(disk.groups.at("G").hosts.at("a").hold->permitted);
  EXPECT_EQ(call(request, "b"), R);
  EXPECT_FALSE(on_disk().groups.at("G").hosts.at("b").hold->permitted);
}

TEST_F(actor_fixture, timer_expires_permit_and_promotes_without_a_call) {
  EXPECT_EQ(call(request, "a"), P);
  advance(30min);
  EXPECT_EQ(call(request, "b"), R);
  advance(29min);
  EXPECT_EQ(state_of("a"), "permitted");
  advance(2min); // a is 61 minutes old
  EXPECT_EQ(state_of("a"), "denied");
  EXPECT_EQ(state_of("b"), "permitted");
  advance(30min); // b's own hour since its request is over
  EXPECT_EQ(state_of("b"), "denied");
  EXPECT_TRUE(on_disk().groups.empty());
}

TEST_F(actor_fixture, machine_moving_group_is_cancelled_in_the_old_one) {
  EXPECT_EQ(call(request, "a"), P);
  EXPECT_EQ(call(request, "b"), R);
  EXPECT_EQ(call(request, "a", {{"DisruptionManagerGroupIdentifier", "H"}}), P);
  EXPECT_EQ(call(check, "b"), P);
  auto view = snapshot();
  ASSERT_EQ(view.groups.size(), 2u);
  EXPECT_EQ(view.groups[0].identifier, "G");
  EXPECT_EQ(view.groups[0].machines.size(), 1u);
  EXPECT_EQ(view.groups[1].machines.at(0).host, "a");
}

TEST_F(actor_fixture, ready_delay_only) {
  std::map<std::string, std::string> tags = {
      {"DisruptionManagerReadyTimeout", "10m"}};
  EXPECT_EQ(call(request, "a", tags), P);
  EXPECT_EQ(call(request, "b", tags), R);
  EXPECT_EQ(call(cancel, "a", tags), D);
  EXPECT_EQ(state_of("a"), "waiting");
  advance(9min);
  EXPECT_EQ(state_of("b"), "requested");
  advance(1min + 10ms);
  EXPECT_EQ(state_of("a"), "denied");
  EXPECT_EQ(state_of("b"), "permitted");
}

TEST_F(actor_fixture, ready_url_ready_before_timeout) {
  std::map<std::string, std::string> tags = {
      {"DisruptionManagerReadyTimeout", "64m"},
      {"DisruptionManagerReadyUrl", "http://{{.Hostname}}:8080/ready"}};
  fetcher->status["http://a:8080/ready"] = 503;
  EXPECT_EQ(call(request, "a", tags), P);
  EXPECT_EQ(call(request, "b", tags), R);
  EXPECT_EQ(call(cancel, "a", tags), D);
  EXPECT_EQ(fetcher->calls, 1);
  advance(5min);
  EXPECT_GT(fetcher->calls, 2); // probing with back-off
  EXPECT_EQ(state_of("b"), "requested");
  fetcher->status["http://a:8080/ready"] = 200;
  advance(1min); // the back-off is at most 1/64 of 64 minutes
  EXPECT_EQ(state_of("a"), "denied");
  EXPECT_EQ(state_of("b"), "permitted");
}

TEST_F(actor_fixture, ready_url_never_ready_releases_at_timeout) {
  std::map<std::string, std::string> tags = {
      {"DisruptionManagerReadyUrl", "http://{{.Hostname}}/ready"}};
  EXPECT_EQ(call(request, "a", tags), P);
  EXPECT_EQ(call(request, "b", tags), R);
  EXPECT_EQ(call(cancel, "a", tags), D);
  advance(14min + 59s); // default timeout: 15 minutes
  EXPECT_EQ(state_of("b"), "requested");
  auto probes = fetcher->calls;
  EXPECT_GE(probes, 10);
  advance(2s);
  EXPECT_EQ(state_of("b"), "permitted");
  advance(5min);
  EXPECT_EQ(fetcher->calls, probes); // probing stopped
}

TEST_F(actor_fixture, restart_while_waiting_keeps_waiting) {
  std::map<std::string, std::string> tags = {
      {"DisruptionManagerReadyTimeout", "10m"},
      {"DisruptionManagerReadyUrl", "http://{{.Hostname}}/ready"}};
  EXPECT_EQ(call(request, "a", tags), P);
  EXPECT_EQ(call(request, "b", tags), R);
  EXPECT_EQ(call(cancel, "a", tags), D);
  advance(2min);
  auto clock_before = sched->clock().now();
  restart();
  // The fresh test clock starts over; put it where the old one was.
  sched->clock().current_time = clock_before;
  EXPECT_EQ(state_of("a"), "waiting");
  EXPECT_EQ(state_of("b"), "requested");
  fetcher->status["http://a/ready"] = 200;
  advance(1min);
  EXPECT_EQ(state_of("a"), "denied");
  EXPECT_EQ(state_of("b"), "permitted");
}

TEST_F(actor_fixture, queue_order_survives_restart) {
  EXPECT_EQ(call(request, "a"), P);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(call(request, "q" + std::to_string(i)), R);
  auto clock_before = sched->clock().now();
  restart();
  sched->clock().current_time = clock_before;
  EXPECT_EQ(call(check, "a"), P);
  EXPECT_EQ(call(request, "late"), R);
  for (int i = 0; i < 5; ++i) {
    auto holder = i == 0 ? std::string("a") : "q" + std::to_string(i - 1);
    EXPECT_EQ(call(cancel, holder), D);
    EXPECT_EQ(call(check, "q" + std::to_string(i)), P);
    EXPECT_EQ(call(check, "late"), R);
  }
}

TEST_F(actor_fixture, cycling_keeps_one_timer_per_group) {
  // Each request sets a deadline an hour out; a timer already set for the
  // group covers the next one, however many cycles come.
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(call(request, "a"), P);
    EXPECT_EQ(call(cancel, "a"), D);
    advance(std::chrono::milliseconds(10));
  }
  EXPECT_LE(sched->clock().schedule().size(), 2u);
  // And the timer still ends the last permit an hour after its request.
  EXPECT_EQ(call(request, "a"), P);
  advance(59min);
  EXPECT_EQ(call(check, "a"), P);
  advance(2min);
  EXPECT_EQ(state_of("a"), "denied");
}

namespace {

// Wall time as in 2026, from where sums with Go's largest durations
// (2562047h47m16.854775807s) pass the last instant 64 bits of nanoseconds
// hold (docs/semantics.md, "Edges").
struct actor_fixture_today : actor_fixture {
  explicit actor_fixture_today(caf::timespan clock_at = caf::timespan{0}) {
    wall_offset = std::chrono::hours(500000) - clock_at;
    restart();
    sched->clock().current_time = caf::actor_clock::time_point{clock_at};
  }
  void reboot_with_max_duration(std::chrono::nanoseconds max) {
    max_duration = max;
    auto clock_before = sched->clock().now();
    restart();
    sched->clock().current_time = clock_before;
  }
  // Whether every timer of the actor clock lies ahead: a delay that wrapped
  // would sit in the past and fire at once.
  bool timers_all_ahead() {
    for (const auto& entry : sched->clock().schedule())
      if (entry.first <= sched->clock().now())
        return false;
    return true;
  }
};

// The actor clock itself far along (a host up for decades, as far as
// nanosecond counts go): a timer for a wait of centuries would wrap there.
struct actor_fixture_late_clock : actor_fixture_today {
  actor_fixture_late_clock()
      : actor_fixture_today(
            std::chrono::nanoseconds(3'000'000'000'000'000'000)) {}
};

const char* const huge_ready_timeouts[] = {
    "2100000h", "2562047h47m16.854775807s", "9223372036854775807ns"};

} // namespace

TEST_F(actor_fixture_today, huge_maximum_duration_never_lapses) {
  for (auto max :
       {std::chrono::nanoseconds(2500000h), std::chrono::nanoseconds::max()}) {
    reboot_with_max_duration(max);
    std::string a = "a" + std::to_string(max.count());
    std::string b = "b" + std::to_string(max.count());
    EXPECT_EQ(call(request, a), P);
    advance(300ms);
    EXPECT_EQ(call(check, a), P) << max.count();
    EXPECT_EQ(call(request, b), R) << max.count();
    EXPECT_TRUE(timers_all_ahead());
    // A day and more in one step: whatever timer is set fires, and the
    // permit and the queue stay.
    sched->clock().advance_time(25h);
    sched->run();
    EXPECT_EQ(state_of(a), "permitted") << max.count();
    EXPECT_EQ(state_of(b), "requested") << max.count();
    EXPECT_TRUE(timers_all_ahead());
    EXPECT_EQ(call(cancel, a), D);
    EXPECT_EQ(call(check, b), P);
    EXPECT_EQ(call(cancel, b), D);
  }
}

TEST_F(actor_fixture_today, huge_ready_timeout_holds_the_slot) {
  for (const char* timeout : huge_ready_timeouts) {
    std::map<std::string, std::string> tags = {
        {"DisruptionManagerGroupIdentifier", timeout},
        {"DisruptionManagerReadyTimeout", timeout}};
    std::string a = std::string("a-") + timeout;
    std::string b = std::string("b-") + timeout;
    EXPECT_EQ(call(request, a, tags), P);
    EXPECT_EQ(call(cancel, a, tags), D);
    advance(300ms);
    EXPECT_EQ(call(request, b, tags), R) << timeout;
    EXPECT_EQ(state_of(a), "waiting") << timeout;
    EXPECT_TRUE(timers_all_ahead()) << timeout;
    sched->clock().advance_time(25h);
    sched->run();
    EXPECT_EQ(state_of(a), "waiting") << timeout;
    EXPECT_TRUE(timers_all_ahead()) << timeout;
    // Saved with the last deadline a state file holds, 2200-01-01.
    auto disk = on_disk();
    ASSERT_TRUE(disk.groups.count(timeout) &&
                disk.groups.at(timeout).hosts.count(a))
        << timeout;
    auto& saved = disk.groups.at(timeout).hosts.at(a);
    ASSERT_TRUE(saved.wait);
    EXPECT_EQ(saved.wait->deadline, latest_wait_deadline);
  }
  // And after a restart the machines still wait.
  auto clock_before = sched->clock().now();
  restart();
  sched->clock().current_time = clock_before;
  for (const char* timeout : huge_ready_timeouts)
    EXPECT_EQ(state_of(std::string("a-") + timeout), "waiting") << timeout;
}

TEST_F(actor_fixture_today, ready_timeout_beyond_gos_largest_applies_none) {
  // Go's ParseDuration refuses it, so the original holds no slot for it.
  std::map<std::string, std::string> tags = {
      {"DisruptionManagerReadyTimeout", "2562047h47m16.854775808s"}};
  EXPECT_EQ(call(request, "a", tags), P);
  EXPECT_EQ(call(cancel, "a", tags), D);
  EXPECT_EQ(call(request, "b", tags), P);
}

TEST_F(actor_fixture_late_clock, huge_ready_timeout_sets_no_timer_that_wraps) {
  for (const char* timeout : huge_ready_timeouts) {
    std::map<std::string, std::string> tags = {
        {"DisruptionManagerGroupIdentifier", timeout},
        {"DisruptionManagerReadyTimeout", timeout},
        {"DisruptionManagerReadyUrl", "http://{{.Hostname}}/ready"}};
    std::string a = std::string("a-") + timeout;
    std::string b = std::string("b-") + timeout;
    EXPECT_EQ(call(request, a, tags), P);
    EXPECT_EQ(call(cancel, a, tags), D);
    EXPECT_EQ(call(request, b, tags), R) << timeout;
    EXPECT_TRUE(timers_all_ahead()) << timeout;
    auto probes = fetcher->calls;
    advance(10s);
    EXPECT_EQ(state_of(a), "waiting") << timeout;
    EXPECT_EQ(state_of(b), "requested") << timeout;
    EXPECT_TRUE(timers_all_ahead()) << timeout;
    // Probes go on, spaced by the back-off's ceiling of five minutes.
    sched->clock().advance_time(6min);
    sched->run();
    EXPECT_GT(fetcher->calls, probes) << timeout;
    EXPECT_TRUE(timers_all_ahead()) << timeout;
    EXPECT_EQ(call(cancel, b, tags), D);
    // Past the hour a's own request set a timer for, the wait's deadline
    // is all the group has left to time.
    sched->clock().advance_time(61min);
    sched->run();
    EXPECT_EQ(state_of(a), "waiting") << timeout;
    EXPECT_TRUE(timers_all_ahead()) << timeout;
  }
}

// Finding: a check with a new group name started a group actor that lived
// forever and saved the limit, so checks alone grew memory and the state.
TEST_F(actor_fixture, check_creates_no_permanent_group) {
  auto running = sys->registry().running();
  for (int i = 0; i < 200; ++i)
    EXPECT_EQ(
        call(check, "x" + std::to_string(i % 7),
             {{"DisruptionManagerGroupIdentifier", "g" + std::to_string(i)},
              {"DisruptionManagerGroupMaximumDisrupting", "5"}}),
        D);
  EXPECT_EQ(call(cancel, "x1", {{"DisruptionManagerGroupIdentifier", "c"}}), D);
  EXPECT_EQ(sys->registry().running(), running);
  EXPECT_TRUE(on_disk().groups.empty());
  EXPECT_TRUE(snapshot().groups.empty());
}

TEST_F(actor_fixture, group_without_machines_is_reclaimed) {
  auto running = sys->registry().running();
  std::map<std::string, std::string> tags = {
      {"DisruptionManagerGroupMaximumDisrupting", "5"},
      {"DisruptionManagerReadyTimeout", "10m"}};
  EXPECT_EQ(call(request, "a", tags), P);
  EXPECT_EQ(sys->registry().running(), running + 1);
  EXPECT_EQ(on_disk().groups.at("G").limit, 5u);
  // A waiting machine still holds a slot: the group and its limit stay.
  EXPECT_EQ(call(cancel, "a", tags), D);
  EXPECT_EQ(state_of("a"), "waiting");
  EXPECT_EQ(sys->registry().running(), running + 1);
  EXPECT_EQ(on_disk().groups.at("G").limit, 5u);
  advance(10min + 10ms);
  EXPECT_EQ(state_of("a"), "denied");
  EXPECT_EQ(sys->registry().running(), running);
  EXPECT_TRUE(on_disk().groups.empty());
  // A machine that moves away takes the group with it.
  EXPECT_EQ(call(request, "b", tags), P);
  EXPECT_EQ(call(request, "b", {{"DisruptionManagerGroupIdentifier", "H"}}), P);
  EXPECT_EQ(sys->registry().running(), running + 1);
  EXPECT_EQ(on_disk().groups.count("G"), 0u);
  EXPECT_EQ(call(cancel, "b", {{"DisruptionManagerGroupIdentifier", "H"}}), D);
  EXPECT_EQ(sys->registry().running(), running);
  // Retired groups leave no wake-up of their own behind in CAF's clock
  // (the timer's, superseded or not, are at most two here).
  EXPECT_LE(sched->clock().schedule().size(), 2u);
}

// Groups are reclaimed when they know no machine and come back on the next
// request; the answers must be those of groups that stayed forever (plain
// books here), across restarts too (so the limit is saved whenever the disk
// may have dropped it).
TEST_F(actor_fixture, reclaimed_group_decides_as_if_it_had_stayed) {
  std::mt19937_64 random(20261206);
  auto pick = [&](std::size_t n) {
    return static_cast<std::size_t>(random() % n);
  };
  std::map<std::string, group_book> books;
  auto now = [&] {
    return timestamp{std::chrono::duration_cast<std::chrono::nanoseconds>(
        sched->clock().now().time_since_epoch())};
  };
  std::size_t answers[4] = {0, 0, 0, 0};
  for (int step = 0; step < 3000; ++step) {
    std::string host = "m" + std::to_string(pick(6));
    std::string group = "g" + std::to_string(pick(4));
    std::uint64_t limit =
        pick(4) == 0 ? 1 + pick(3) : 1 + (group.back() - '0') % 3;
    std::map<std::string, std::string> tags = {
        {"DisruptionManagerGroupIdentifier", group},
        {"DisruptionManagerGroupMaximumDisrupting", std::to_string(limit)}};
    std::optional<ready_gate> gate;
    auto kind = static_cast<request_kind>(pick(3));
    if (kind == cancel && pick(2) == 0) {
      auto minutes = 1 + pick(30);
      tags["DisruptionManagerReadyTimeout"] = std::to_string(minutes) + "m";
      gate = ready_gate{std::chrono::minutes(minutes), ""};
    }
    switch (pick(10)) {
    case 0:
      advance(std::chrono::minutes(pick(40)));
      continue;
    case 1: {
      auto clock_before = sched->clock().now();
      restart();
      sched->clock().current_time = clock_before;
      continue;
    }
    default:
      break;
    }
    auto t = now();
    for (auto& [other, book] : books)
      if (other != group)
        book.evict(host, t);
    auto it = books.find(group);
    if (it == books.end())
      it = books.emplace(group, group_book(group, 1h)).first;
    auto expected = it->second.operate(kind, host, limit, gate, t);
    ASSERT_EQ(call(kind, host, tags), expected) << "step " << step;
    ++answers[static_cast<int>(expected)];
  }
  EXPECT_GT(answers[1], 100u);
  EXPECT_GT(answers[2], 100u);
  EXPECT_GT(answers[3], 100u);
}

// The original's polling: up to 1/64 of the timeout, at most 5 minutes,
// starting from 1/16 of that bound.
TEST(probe_backoff, follows_the_original) {
  auto hour = backoff_for(1h);
  EXPECT_EQ(hour.first, std::chrono::nanoseconds(1h) / 1024);
  EXPECT_EQ(hour.most, std::chrono::nanoseconds(1h) / 64);
  auto long_wait = backoff_for(10h);
  EXPECT_EQ(long_wait.most, std::chrono::nanoseconds(5min));
  EXPECT_EQ(long_wait.first, std::chrono::nanoseconds(5min) / 16);
  // Never more often than once a millisecond.
  auto short_wait = backoff_for(100ms);
  EXPECT_EQ(short_wait.first, std::chrono::nanoseconds(1ms));
  EXPECT_EQ(short_wait.most, std::chrono::nanoseconds(100ms) / 64);
  auto tiny_wait = backoff_for(10ms);
  EXPECT_EQ(tiny_wait.first, std::chrono::nanoseconds(1ms));
  EXPECT_EQ(tiny_wait.most, std::chrono::nanoseconds(1ms));
}
