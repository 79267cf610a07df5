// The central promise under crashes: machines cycle request / hold /
// cancel while the server is killed with SIGKILL at random moments and
// restarted. From the clients' side (a machine stops counting as a holder
// before it sends its cancel) no group may ever exceed its limit, and every
// machine holding a permit at the end must still be told "permitted".
// FleetLock clients (Zincati's requests) take part beside the others.
// DM_CRASH_ROUNDS (default 20) sets the number of crashes; the long variant
// is DM_CRASH_ROUNDS=200.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "tests/support/sanitizer.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dm::test;
using namespace std::chrono_literals;

namespace {

struct group_spec {
  std::string name;
  int limit;
  std::string gate_timeout; // empty: no ready gate
  // Its machines speak FleetLock; its limit is then the server's
  // -fleetLockDefaultLimit (fleetlock_limit below).
  bool fleetlock = false;
};

constexpr int fleetlock_limit = 2;

struct ledger {
  std::mutex mutex;
  std::map<std::string, std::set<std::string>> holders; // group -> hosts
  std::map<std::string, int> limits;
  std::map<std::string, int> granted; // per group
  std::atomic<int> grants{0};
  std::atomic<int> violations{0};
  std::string first_violation;
  // Limit-1 groups with a ready delay: when the last cancel was first sent
  // (the server cannot have begun the wait before that).
  std::map<std::string, std::chrono::steady_clock::time_point> last_cancel;
  std::map<std::string, std::chrono::milliseconds> delays;
  std::atomic<int> early_grants{0};

  void hold(const std::string& group, const std::string& host) {
    std::lock_guard<std::mutex> guard(mutex);
    auto& set = holders[group];
    set.insert(host);
    ++granted[group];
    auto delay = delays.find(group);
    auto cancelled = last_cancel.find(group);
    if (delay != delays.end() && cancelled != last_cancel.end()) {
      // The grant was made before this answer arrived, and the wait began
      // after the cancel was sent: no slack is needed, however slow the
      // server (or a sanitizer) makes the answers.
      auto since = std::chrono::steady_clock::now() - cancelled->second;
      if (since < delay->second)
        ++early_grants;
    }
    if (static_cast<int>(set.size()) > limits[group]) {
      if (violations++ == 0) {
        first_violation = group + " has " + std::to_string(set.size()) +
                          " holders, limit " + std::to_string(limits[group]);
      }
    }
  }
  void cancelled(const std::string& group,
                 std::chrono::steady_clock::time_point first_sent) {
    std::lock_guard<std::mutex> guard(mutex);
    last_cancel[group] = first_sent;
  }
  void release(const std::string& group, const std::string& host) {
    std::lock_guard<std::mutex> guard(mutex);
    holders[group].erase(host);
  }
};

std::string tags_for(const group_spec& g) {
  nlohmann::json t = {
      {"DisruptionManagerGroupIdentifier", g.name},
      {"DisruptionManagerGroupMaximumDisrupting", std::to_string(g.limit)}};
  if (!g.gate_timeout.empty())
    t["DisruptionManagerReadyTimeout"] = g.gate_timeout;
  return t.dump();
}

// Answers "permitted", "requested", "denied", or "" when there was no
// answer (server down); anything else is a failure of the test.
std::string ask(int port, const std::string& op, const std::string& host,
                const std::string& tags) {
  auto answer = disruption(port, op, host, tags);
  if (answer.rfind("HTTP 0", 0) == 0 || answer.rfind("HTTP 503", 0) == 0)
    return "";
  return answer;
}

// The same for a FleetLock client: RecursiveLock for request and check
// (200 permitted, 409 queued), UnlockIfHeld for cancel (200 denied).
std::string ask_fleetlock(int port, const std::string& op,
                          const std::string& id, const std::string& group) {
  std::string body =
      R"({"client_params":{"id":")" + id + R"(","group":")" + group + R"("}})";
  std::string path = op == "cancel" ? "/v1/steady-state" : "/v1/pre-reboot";
  http_connection c(port);
  if (!c.connected())
    return "";
  auto answer = c.exchange("POST " + path +
                           " HTTP/1.1\r\nhost: x\r\nfleet-lock-protocol: "
                           "true\r\ncontent-length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body);
  if (answer.status == 0 || answer.status == 503)
    return "";
  if (answer.status == 200)
    return op == "cancel" ? "denied" : "permitted";
  if (answer.status == 409 && op != "cancel")
    return "requested";
  return "HTTP " + std::to_string(answer.status) + " " + answer.body;
}

// With `admin_mix`, an operator pauses and resumes C2, freezes and thaws
// everything and lowers C3's limit to 2 and clears it again, all along
// (lowering takes no permit back: the tags' limits still bound holders).
void run_crash_test(const std::vector<group_spec>& groups, int machines_per,
                    int rounds, bool admin_mix = false) {
  temp_dir dir;
  server_process server(
      DM_SERVER_BINARY, dir.file("state"),
      {"-fleetLockAllowedNetworks=127.0.0.0/8",
       "-fleetLockDefaultLimit=" + std::to_string(fleetlock_limit)});
  ASSERT_TRUE(server.start()) << server.log_text();
  int port = server.port();
  ledger book;
  for (auto& g : groups) {
    book.limits[g.name] = g.limit;
    if (g.limit == 1 && !g.gate_timeout.empty())
      book.delays[g.name] =
          std::chrono::milliseconds(std::stoi(g.gate_timeout)); // "300ms"
  }
  std::atomic<bool> stop{false};
  std::atomic<int> unexpected{0};
  std::vector<std::thread> clients;
  std::mutex final_mutex;
  std::map<std::string, std::pair<std::string, std::string>> final_holders;
  int host_index = 0;
  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    for (int m = 0; m < machines_per; ++m, ++host_index) {
      std::string host = "127.0.60." + std::to_string(10 + host_index);
      const group_spec& g = groups[gi];
      clients.emplace_back([&, host, g, seed = host_index] {
        std::mt19937 rng(static_cast<unsigned>(seed) * 7919u + 1u);
        std::uniform_int_distribution<int> hold_ms(150, 900);
        auto tags = tags_for(g);
        auto ask = [&](int port, const std::string& op, const std::string& host,
                       const std::string& tags) {
          return g.fleetlock ? ask_fleetlock(port, op, host, g.name)
                             : ::ask(port, op, host, tags);
        };
        bool holding = false;
        std::chrono::steady_clock::time_point release_at;
        while (!stop) {
          if (!holding) {
            auto answer = ask(port, "request", host, tags);
            if (answer == "permitted") {
              book.hold(g.name, host);
              ++book.grants;
              holding = true;
              release_at = std::chrono::steady_clock::now() +
                           std::chrono::milliseconds(hold_ms(rng));
            } else if (answer != "requested" && answer != "") {
              ++unexpected;
            }
            std::this_thread::sleep_for(20ms);
            continue;
          }
          if (std::chrono::steady_clock::now() < release_at) {
            // A holder checks now and then: it must not have been forgotten.
            auto answer = ask(port, "check", host, tags);
            if (answer != "" && answer != "permitted")
              ++unexpected;
            std::this_thread::sleep_for(50ms);
            continue;
          }
          book.release(g.name, host); // stops counting before the cancel
          holding = false;
          // An earlier attempt may have been carried out and its answer
          // lost in a crash: the wait began after the first one was sent.
          auto first_sent = std::chrono::steady_clock::now();
          while (!stop) {
            auto answer = ask(port, "cancel", host, tags);
            if (answer == "denied") {
              book.cancelled(g.name, first_sent);
              break;
            }
            if (answer != "")
              ++unexpected;
            std::this_thread::sleep_for(20ms);
          }
        }
        if (holding) {
          std::lock_guard<std::mutex> guard(final_mutex);
          final_holders[host] = {g.name, g.fleetlock ? "" : tags};
        }
      });
    }
  }
  std::atomic<int> admin_done{0};
  std::thread admin_thread;
  if (admin_mix)
    admin_thread = std::thread([&] {
      const std::pair<const char*, const char*> commands[] = {
          {"pause", R"({"Group": "C2", "Reason": "crash test"})"},
          {"resume", R"({"Group": "C2"})"},
          {"freeze", R"({})"},
          {"thaw", R"({})"},
          {"limit", R"({"Group": "C3", "Limit": 2})"},
          {"limit", R"({"Group": "C3", "Limit": "clear"})"}};
      std::size_t next = 0;
      while (!stop) {
        const auto& [op, body] = commands[next % 6];
        // (Lost in a crash: the next command goes on.)
        if (http_post(port, std::string("/api/v1/admin/") + op, body).status ==
            200)
          ++admin_done;
        ++next;
        std::this_thread::sleep_for(70ms);
      }
      http_post(port, "/api/v1/admin/thaw", "{}");
    });
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> pause_ms(100, 500);
  for (int round = 0; round < rounds; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    server.kill_hard();
    ASSERT_TRUE(server.start()) << server.log_text();
  }
  std::this_thread::sleep_for(300ms);
  stop = true;
  for (auto& c : clients)
    c.join();
  if (admin_thread.joinable())
    admin_thread.join();
  if (admin_mix) {
    EXPECT_GT(admin_done.load(), 0) << "no admin command was answered";
  }
  int checked = 0;
  for (const auto& [host, group_and_tags] : final_holders) {
    bool fleetlock = group_and_tags.second.empty();
    EXPECT_EQ(fleetlock
                  ? ask_fleetlock(port, "check", host, group_and_tags.first)
                  : ask(port, "check", host, group_and_tags.second),
              "permitted")
        << host << " was told permitted and is forgotten";
    ++checked;
  }
  EXPECT_EQ(book.violations.load(), 0) << book.first_violation;
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(book.early_grants.load(), 0)
      << "a limit-1 group granted before its ready delay ended";
  // Progress: permits keep being granted between crashes (under a
  // sanitizer the server is too slow for one per crash).
  EXPECT_GT(book.grants.load(), under_sanitizer() ? 0 : rounds);
  for (const auto& g : groups) // every kind of client took part
    EXPECT_GT(book.granted[g.name], 0) << g.name;
  std::printf("crash test: %d grants, %d crashes, %d holders checked at the "
              "end, %d limit violations, %d grants before a ready delay "
              "ended\n",
              book.grants.load(), rounds, checked, book.violations.load(),
              book.early_grants.load());
}

int rounds_from_env() {
  const char* value = std::getenv("DM_CRASH_ROUNDS");
  return value != nullptr ? std::max(1, std::atoi(value)) : 20;
}

} // namespace

TEST(crash_under_load, limits_hold_and_no_permit_is_forgotten) {
  run_crash_test({{"C1", 1, ""},
                  {"C2", 2, ""},
                  {"C3", 3, ""},
                  {"F2", fleetlock_limit, "", true}},
                 5, rounds_from_env());
}

TEST(crash_under_load, with_ready_gates_waiting_machines_hold_their_slots) {
  // A cancelled permit keeps its slot for the delay, across crashes too;
  // from the clients' side that only makes permits rarer, never more.
  run_crash_test({{"W1", 1, "300ms"}, {"W2", 2, "200ms"}}, 5,
                 std::max(5, rounds_from_env() / 2));
}

TEST(crash_under_load, limits_hold_with_admin_operations_mixed_in) {
  run_crash_test({{"C1", 1, ""}, {"C2", 2, ""}, {"C3", 3, ""}}, 5,
                 std::max(5, rounds_from_env() / 2), true);
}
