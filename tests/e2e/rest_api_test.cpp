// The REST API of the real server binary on loopback, as clients use it.
// Each simulated machine is a loopback address and connects from it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <thread>
#include <unistd.h>

#include "tests/support/http_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dm::test;

namespace {

struct rest_fixture : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<server_process> server;

  void start(std::vector<std::string> args = {}) {
    server = std::make_unique<server_process>(DM_SERVER_BINARY,
                                              dir.file("state"), args);
    ASSERT_TRUE(server->start()) << server->log_text();
  }
  void SetUp() override { start(); }
  int port() const { return server->port(); }

  std::string
  op(const std::string& what, const std::string& host,
     const std::string& tags = R"({"DisruptionManagerGroupIdentifier":"G"})") {
    return disruption(port(), what, host, tags);
  }
};

std::string group_tags(const std::string& group, int limit = 0) {
  nlohmann::json tags = {{"DisruptionManagerGroupIdentifier", group}};
  if (limit > 0)
    tags["DisruptionManagerGroupMaximumDisrupting"] = std::to_string(limit);
  return tags.dump();
}

} // namespace

TEST_F(rest_fixture, seed_example_then_queue_then_promotion) {
  std::string body = R"({
    "MDB": {
      "Hostname": "localhost",
      "Tags": {
        "BusinessUnit": "core-team",
        "DisruptionManagerGroupIdentifier": "NomadNodes"
      }
    },
    "Request": "request"
  })";
  auto answer = http_post(port(), "/api/v1/request", body);
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(nlohmann::json::parse(answer.body)["Response"], "permitted");
  auto tags = group_tags("NomadNodes");
  EXPECT_EQ(disruption(port(), "request", "127.0.0.2", tags), "requested");
  EXPECT_EQ(disruption(port(), "check", "127.0.0.2", tags), "requested");
  EXPECT_EQ(disruption(port(), "cancel", "localhost", tags, "127.0.0.1"),
            "denied");
  EXPECT_EQ(disruption(port(), "check", "127.0.0.2", tags), "permitted");
}

TEST_F(rest_fixture, original_test_sequence) {
  EXPECT_EQ(op("request", "127.0.0.3"), "permitted");
  EXPECT_EQ(op("request", "127.0.0.4"), "requested");
  EXPECT_EQ(op("cancel", "127.0.0.3"), "denied");
  EXPECT_EQ(op("check", "127.0.0.4"), "permitted");
  EXPECT_EQ(op("cancel", "127.0.0.4"), "denied");
  EXPECT_EQ(op("check", "127.0.0.4"), "denied");
  EXPECT_EQ(op("check", "127.0.0.3"), "denied");
}

TEST_F(rest_fixture, limit_n_with_strict_fifo_over_twelve_queued) {
  auto tags = group_tags("Fifo", 3);
  for (int i = 1; i <= 3; ++i)
    EXPECT_EQ(op("request", "127.0.1." + std::to_string(i), tags), "permitted");
  for (int i = 10; i < 22; ++i)
    EXPECT_EQ(op("request", "127.0.1." + std::to_string(i), tags), "requested");
  // Asking again does not move a machine forward in the queue.
  EXPECT_EQ(op("request", "127.0.1.21", tags), "requested");
  std::vector<std::string> holders = {"127.0.1.1", "127.0.1.2", "127.0.1.3"};
  for (int next = 10; next < 22; ++next) {
    EXPECT_EQ(op("cancel", holders.front(), tags), "denied");
    holders.erase(holders.begin());
    auto host = "127.0.1." + std::to_string(next);
    EXPECT_EQ(op("check", host, tags), "permitted") << host;
    if (next + 1 < 22) {
      EXPECT_EQ(op("check", "127.0.1." + std::to_string(next + 1), tags),
                "requested");
    }
    holders.push_back(host);
  }
}

TEST_F(rest_fixture, groups_are_independent_and_global_group_exists) {
  EXPECT_EQ(op("request", "127.0.2.1", group_tags("A")), "permitted");
  EXPECT_EQ(op("request", "127.0.2.2", group_tags("B")), "permitted");
  EXPECT_EQ(op("request", "127.0.2.3", group_tags("")), "permitted");
  EXPECT_EQ(op("request", "127.0.2.4", group_tags("")), "requested");
  EXPECT_EQ(op("request", "127.0.2.5", group_tags("A")), "requested");
  // Without the tag, the image stream is the group.
  auto stream =
      R"({"MDB":{"Hostname":"127.0.2.6","RequiredImage":"kubelet/1"},"Request":"request"})";
  auto other =
      R"({"MDB":{"Hostname":"127.0.2.7","RequiredImage":"kubelet/2"},"Request":"request"})";
  EXPECT_NE(http_post(port(), "/api/v1/request", stream, "127.0.2.6")
                .body.find("permitted"),
            std::string::npos);
  EXPECT_NE(http_post(port(), "/api/v1/request", other, "127.0.2.7")
                .body.find("requested"),
            std::string::npos);
}

TEST_F(rest_fixture, machine_may_act_only_for_itself) {
  auto answer = http_post(
      port(), "/api/v1/request",
      R"({"MDB":{"Hostname":"127.0.3.1"},"Request":"request"})", "127.0.3.2");
  EXPECT_EQ(answer.status, 403);
  EXPECT_EQ(answer.body, "127.0.3.1 not permitted\n");
  answer = http_post(port(), "/api/v1/request",
                     R"({"MDB":{"Hostname":"127.0.3.1"},"Request":"cancel"})",
                     "127.0.3.2");
  EXPECT_EQ(answer.status, 403);
  // Anybody may check.
  answer = http_post(port(), "/api/v1/request",
                     R"({"MDB":{"Hostname":"127.0.3.1"},"Request":"check"})",
                     "127.0.3.2");
  EXPECT_EQ(answer.status, 200);
  // A name that does not resolve is refused with the lookup's reason.
  answer = http_post(
      port(), "/api/v1/request",
      R"({"MDB":{"Hostname":"no-such-host.invalid"},"Request":"request"})");
  EXPECT_EQ(answer.status, 403);
  EXPECT_NE(answer.body.find("no-such-host.invalid"), std::string::npos);
}

// The self-only rule resolves names as Go does: a NUL cannot cut a name
// short, and forms only the C library reads as addresses match nothing.
TEST_F(rest_fixture, self_only_rule_cannot_be_got_around) {
  auto a = http_post(
      port(), "/api/v1/request",
      R"({"MDB":{"Hostname":"127.0.0.1\u0000victim"},"Request":"request"})",
      "127.0.0.1");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body, "MDB.Hostname contains control character U+0000\n");
  a = http_post(port(), "/api/v1/request",
                R"({"MDB":{"Hostname":"127.0.0.1\u001f"},"Request":"check"})",
                "127.0.0.1");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body, "MDB.Hostname contains control character U+001F\n");
  for (const std::string name : {"127.1", "0177.0.0.1", "2130706433"}) {
    a = http_post(port(), "/api/v1/request",
                  R"({"MDB":{"Hostname":")" + name +
                      R"("},"Request":"request"})",
                  "127.0.0.1");
    EXPECT_EQ(a.status, 403) << name;
    EXPECT_EQ(a.body, "lookup " + name + ": no such host\n");
  }
  // What the machine is called, by name or address, still matches.
  EXPECT_EQ(
      disruption(port(), "request", "localhost", group_tags("L1"), "127.0.0.1"),
      "permitted");
  EXPECT_EQ(
      disruption(port(), "request", "127.0.0.1", group_tags("L2"), "127.0.0.1"),
      "permitted");
}

TEST_F(rest_fixture, bad_inputs_get_clear_errors) {
  auto get = http_get(port(), "/api/v1/request");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.body, "unsupported method\n");
  // CONNECT too, though it is how SRPC starts on other paths.
  http_connection connect(port());
  auto tunnel =
      connect.exchange("CONNECT /api/v1/request HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(tunnel.status, 405);
  EXPECT_EQ(tunnel.body, "unsupported method\n");
  auto post = [&](const std::string& body) {
    return http_post(port(), "/api/v1/request", body);
  };
  auto a = post("{not json");
  EXPECT_EQ(a.status, 400);
  EXPECT_FALSE(a.body.empty());
  a = post(R"({"MDB":{"Hostname":"127.0.0.1"},"Request":"reboot"})");
  EXPECT_EQ(a.status, 400);
  EXPECT_NE(a.body.find("reboot"), std::string::npos);
  a = post(R"({"MDB":{"Hostname":"127.0.0.1"},"Request":7})");
  EXPECT_EQ(a.status, 400);
  a = post(R"({"MDB":{"Hostname":5},"Request":"check"})");
  EXPECT_EQ(a.status, 400);
  EXPECT_NE(a.body.find("Hostname"), std::string::npos);
  a = post(R"({"MDB":{"Hostname":"h","Tags":["x"]},"Request":"check"})");
  EXPECT_EQ(a.status, 400);
  // No Request: Go's zero value, a check, as the original reads it.
  a = post(R"({"MDB":{"Hostname":"h"}})");
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.body.find("denied"), std::string::npos) << a.body;
  a = post(R"({"MDB":{},"Request":"check"})");
  EXPECT_EQ(a.status, 400);
  a = post("[]");
  EXPECT_EQ(a.status, 400);
  // Unknown fields are ignored.
  a = post(
      R"({"MDB":{"Hostname":"127.0.0.1","NewField":{"x":1}},"Request":"check","Extra":true})");
  EXPECT_EQ(a.status, 200) << a.body;
  // The kind is a name, never a number (Go refuses numbers): nothing is
  // granted, and the reason says what is expected.
  for (const char* number : {"0", "1", "2"}) {
    a = post(std::string(R"({"MDB":{"Hostname":"127.0.0.1"},"Request":)") +
             number + "}");
    EXPECT_EQ(a.status, 400) << number;
    EXPECT_NE(a.body.find("Request: expected a string"), std::string::npos)
        << a.body;
  }
  EXPECT_EQ(op("check", "127.0.0.1"), "denied");
  // Nesting deeper than Go's decoder takes (10000 levels) is refused.
  auto nested = [](std::size_t depth) {
    return R"({"MDB":{"Hostname":"h"},"Request":"check","X":)" +
           std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
  };
  EXPECT_EQ(post(nested(10000)).status, 200);
  a = post(nested(10001));
  EXPECT_EQ(a.status, 400);
  EXPECT_NE(a.body.find("nested deeper than 10000"), std::string::npos)
      << a.body;
  std::string huge(2 << 20, ' ');
  a = post(R"({"MDB":{"Hostname":"h"},"Request":"check"})" + huge);
  EXPECT_EQ(a.status, 413);
  EXPECT_EQ(http_get(port(), "/no/such/page").status, 404);
  // The server still serves after all that.
  EXPECT_EQ(op("request", "127.0.0.9"), "permitted");
}

TEST_F(rest_fixture, keep_alive_connection_serves_many_calls) {
  http_connection conn(port(), "127.0.4.1");
  auto body = R"({"MDB":{"Hostname":"127.0.4.1"},"Request":"request"})";
  for (int i = 0; i < 50; ++i) {
    auto a = conn.post("/api/v1/request", body);
    ASSERT_EQ(a.status, 200);
    EXPECT_NE(a.body.find("permitted"), std::string::npos);
  }
}

TEST_F(rest_fixture, state_api_shows_groups_in_queue_order) {
  op("request", "127.0.5.1");
  op("request", "127.0.5.3");
  op("request", "127.0.5.2");
  auto a = http_get(port(), "/api/v1/state");
  ASSERT_EQ(a.status, 200);
  auto state = nlohmann::json::parse(a.body);
  ASSERT_EQ(state["Groups"].size(), 1u);
  auto& g = state["Groups"][0];
  EXPECT_EQ(g["Identifier"], "G");
  EXPECT_EQ(g["Permitted"][0]["Hostname"], "127.0.5.1");
  EXPECT_EQ(g["Requested"][0]["Hostname"], "127.0.5.3");
  EXPECT_EQ(g["Requested"][1]["Hostname"], "127.0.5.2");
}

TEST_F(rest_fixture, expiry_after_maximum_permitted_duration) {
  server->stop();
  start({"-maximumPermittedDuration=1500ms"});
  EXPECT_EQ(op("request", "127.0.6.1"), "permitted");
  EXPECT_EQ(op("request", "127.0.6.2"), "requested");
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_EQ(op("request", "127.0.6.2"), "requested"); // refreshes 6.2
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  // 6.1 expired by its timer and 6.2 was promoted without any call.
  auto state = nlohmann::json::parse(http_get(port(), "/api/v1/state").body);
  ASSERT_EQ(state["Groups"].size(), 1u);
  EXPECT_EQ(state["Groups"][0]["Permitted"][0]["Hostname"], "127.0.6.2");
  EXPECT_EQ(op("check", "127.0.6.1"), "denied");
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  EXPECT_EQ(op("check", "127.0.6.2"), "denied");
}

// Durations up to Go's largest are accepted and saturate rather than wrap
// (docs/semantics.md, "Edges"); one nanosecond more is refused, as Go does.
TEST_F(rest_fixture, huge_maximum_permitted_duration_never_lapses) {
  for (std::string max : {"2500000h", "2562047h47m16.854775807s"}) {
    server->stop();
    start({"-maximumPermittedDuration=" + max});
    EXPECT_EQ(op("request", "127.0.6.11"), "permitted") << max;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(op("check", "127.0.6.11"), "permitted") << max;
    EXPECT_EQ(op("request", "127.0.6.12"), "requested") << max;
    auto state = nlohmann::json::parse(http_get(port(), "/api/v1/state").body);
    ASSERT_EQ(state["Groups"].size(), 1u) << state.dump();
    EXPECT_EQ(state["Groups"][0]["Permitted"].size(), 1u) << state.dump();
    EXPECT_EQ(op("cancel", "127.0.6.11"), "denied");
    EXPECT_EQ(op("cancel", "127.0.6.12"), "denied");
  }
  std::string out;
  EXPECT_EQ(run_program({DM_SERVER_BINARY,
                         "-maximumPermittedDuration=2562047h47m16.854775808s"},
                        out),
            2);
  EXPECT_NE(out.find("maximumPermittedDuration"), std::string::npos) << out;
}

TEST_F(rest_fixture, huge_ready_timeout_holds_the_slot) {
  int n = 0;
  for (std::string timeout :
       {"2100000h", "2562047h47m16.854775807s", "9223372036854775807ns"}) {
    nlohmann::json tags = {
        {"DisruptionManagerGroupIdentifier", "Huge" + std::to_string(n)},
        {"DisruptionManagerReadyTimeout", timeout}};
    std::string a = "127.0.6." + std::to_string(20 + 2 * n);
    std::string b = "127.0.6." + std::to_string(21 + 2 * n);
    ++n;
    EXPECT_EQ(op("request", a, tags.dump()), "permitted");
    EXPECT_EQ(op("cancel", a, tags.dump()), "denied");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(op("request", b, tags.dump()), "requested") << timeout;
  }
  // The waits were saved, and go on after a crash.
  server->kill_hard();
  ASSERT_TRUE(server->start()) << server->log_text();
  auto state = nlohmann::json::parse(http_get(port(), "/api/v1/state").body);
  std::size_t waiting = 0;
  for (const auto& group : state["Groups"])
    waiting += group["Waiting"].size();
  EXPECT_EQ(waiting, 3u) << state.dump();
}

TEST_F(rest_fixture, kill_nine_after_permit_forgets_nothing) {
  EXPECT_EQ(op("request", "127.0.7.1"), "permitted");
  EXPECT_EQ(op("request", "127.0.7.2"), "requested");
  EXPECT_EQ(op("request", "127.0.7.3"), "requested");
  server->kill_hard();
  ASSERT_TRUE(server->start()) << server->log_text();
  EXPECT_EQ(op("check", "127.0.7.1"), "permitted");
  EXPECT_EQ(op("request", "127.0.7.4"), "requested");
  EXPECT_EQ(op("check", "127.0.7.3"), "requested");
  EXPECT_EQ(op("cancel", "127.0.7.1"), "denied");
  // The queue kept its order: .2 first, then .3.
  EXPECT_EQ(op("check", "127.0.7.3"), "requested");
  EXPECT_EQ(op("check", "127.0.7.2"), "permitted");
}

TEST_F(rest_fixture, picks_up_original_state_json) {
  server->stop();
  temp_dir legacy;
  legacy.write("state.json", R"([
    {"Identifier": "G",
     "Permitted": [{"Hostname": "127.0.8.1", "LastRequest": ")" +
                                 std::string("2099-01-01T00:00:00Z") + R"("}]}
  ])");
  // A last request in the future keeps it from expiring during the test.
  server = std::make_unique<server_process>(DM_SERVER_BINARY, legacy.path());
  ASSERT_TRUE(server->start()) << server->log_text();
  EXPECT_EQ(op("check", "127.0.8.1"), "permitted");
  EXPECT_EQ(op("request", "127.0.8.2"), "requested");
  EXPECT_NE(server->log_text().find("imported 1 machines"), std::string::npos);
}

TEST_F(rest_fixture, transitions_are_logged_in_the_original_words) {
  op("request", "127.0.9.1");
  op("request", "127.0.9.2");
  op("cancel", "127.0.9.1");
  auto logs = http_get(port(), "/logs").body;
  EXPECT_NE(logs.find("127.0.9.1: denied->permitted (group=\"G\")"),
            std::string::npos)
      << logs;
  EXPECT_NE(logs.find("127.0.9.2: denied->requested (group=\"G\")"),
            std::string::npos);
  EXPECT_NE(logs.find("127.0.9.1: permitted->denied (group=\"G\")"),
            std::string::npos);
  EXPECT_NE(logs.find("127.0.9.2: requested->permitted (group=\"G\")"),
            std::string::npos);
}

TEST(server_flags, help_lists_every_flag_and_bad_values_exit_2) {
  std::string out;
  EXPECT_EQ(run_program({DM_SERVER_BINARY, "-h"}, out), 0);
  for (auto name :
       {"-portNum", "-stateDir", "-maximumPermittedDuration", "-logDir",
        "-logbufLines", "-alsoLogToStderr", "-allowRoot"})
    EXPECT_NE(out.find(name), std::string::npos) << name;
  EXPECT_NE(out.find("6979"), std::string::npos);
  EXPECT_NE(out.find("1h0m0s"), std::string::npos);
  out.clear();
  EXPECT_EQ(
      run_program({DM_SERVER_BINARY, "-maximumPermittedDuration=soon"}, out),
      2);
  EXPECT_NE(out.find("maximumPermittedDuration"), std::string::npos);
  out.clear();
  EXPECT_EQ(run_program({DM_SERVER_BINARY, "-noSuchFlag"}, out), 2);
  EXPECT_NE(out.find("noSuchFlag"), std::string::npos);
  out.clear();
  EXPECT_EQ(
      run_program({DM_SERVER_BINARY, "-portNum=99999", "-allowRoot"}, out), 2);
  // Values that would refuse or drop every connection.
  for (std::string bad :
       {"-idleTimeout=0s", "-idleTimeout=-5s", "-requestTimeout=900ms",
        "-maxConnections=0", "-maxRequestBytes=0"}) {
    out.clear();
    // (A state directory that cannot exist: were the value taken, the
    // server would stop there, with 1, instead of serving.)
    EXPECT_EQ(run_program({DM_SERVER_BINARY, bad, "-allowRoot",
                           "-stateDir=/proc/no-such-directory"},
                          out),
              2)
        << bad << ": " << out;
    auto name = bad.substr(0, bad.find('='));
    EXPECT_NE(out.find("flag " + name + ":"), std::string::npos)
        << bad << ": " << out;
  }
}

TEST(server_flags, refuses_root_without_allow_root) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "only meaningful when the suite runs as root";
  std::string out;
  EXPECT_EQ(run_program({DM_SERVER_BINARY, "-portNum=1"}, out), 1);
  EXPECT_NE(out.find("root"), std::string::npos);
}
