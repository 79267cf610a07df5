// FleetLock end to end: requests as Zincati sends them (POST, the
// fleet-lock-protocol header, a pretty-printed JSON body, no content type)
// against the real server, for locking, queueing, expiry, the ready gate,
// access and bad input (docs/protocol.md, "FleetLock").
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "tests/support/http_client.hpp"
#include "tests/support/ready_endpoint.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/support/tls_exchange.hpp"
#include "tests/support/window_specs.hpp"
#include "tls/peer_identity.hpp"

using namespace dm;
using namespace dm::test;
using namespace std::chrono_literals;

namespace {

// Zincati's body: serde_json's pretty printing of its client identity.
std::string zincati_body(const std::string& id, const std::string& group) {
  return "{\n  \"client_params\": {\n    \"id\": \"" + id +
         "\",\n    \"group\": \"" + group + "\"\n  }\n}";
}

// The request as Zincati's HTTP client writes it.
std::string zincati_request(
    const std::string& path, const std::string& body, int port,
    const std::string& protocol_header = "fleet-lock-protocol: true\r\n") {
  return "POST " + path +
         " HTTP/1.1\r\nhost: 127.0.0.1:" + std::to_string(port) + "\r\n" +
         protocol_header +
         "accept: */*\r\ncontent-length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

struct answer {
  int status = 0;
  std::string kind;  // of a failure
  std::string value; // of a failure
  std::string body;
};

answer read_answer(const http_answer& raw) {
  answer a;
  a.status = raw.status;
  a.body = raw.body;
  if (a.status != 200) {
    auto json = nlohmann::json::parse(raw.body, nullptr, false);
    if (json.is_object() && json.contains("kind") && json.contains("value")) {
      a.kind = json["kind"].get<std::string>();
      a.value = json["value"].get<std::string>();
    }
  }
  return a;
}

struct fleetlock_fixture : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<server_process> server;

  void start(std::vector<std::string> flags = {
                 "-fleetLockAllowedNetworks=127.0.0.0/8"}) {
    server = std::make_unique<server_process>(DM_SERVER_BINARY,
                                              dir.file("state"), flags);
    ASSERT_TRUE(server->start()) << server->log_text();
  }

  answer send(const std::string& op, const std::string& id,
              const std::string& group = "workers",
              const std::string& base = "") {
    http_connection c(server->port());
    return read_answer(c.exchange(zincati_request(
        base + "/v1/" + op, zincati_body(id, group), server->port())));
  }
  answer lock(const std::string& id, const std::string& group = "workers") {
    return send("pre-reboot", id, group);
  }
  answer unlock(const std::string& id, const std::string& group = "workers") {
    return send("steady-state", id, group);
  }
  // Asks for a lock every `pause`, as Zincati retries, until it is granted
  // or 10 s pass; the last status.
  int lock_when_granted(const std::string& id,
                        std::chrono::milliseconds pause) {
    auto since = std::chrono::steady_clock::now();
    int status = 0;
    while (std::chrono::steady_clock::now() - since < 10s) {
      status = lock(id).status;
      if (status == 200)
        break;
      std::this_thread::sleep_for(pause);
    }
    return status;
  }

  nlohmann::json state() {
    return nlohmann::json::parse(
        http_get(server->port(), "/api/v1/state").body);
  }
};

} // namespace

TEST_F(fleetlock_fixture, lock_is_recursive_and_unlock_only_if_held) {
  start();
  EXPECT_EQ(lock("c988d2509fdf4cdcbed39037c56406fb").status, 200);
  EXPECT_EQ(lock("c988d2509fdf4cdcbed39037c56406fb").status, 200);
  auto s = state();
  ASSERT_EQ(s["Groups"].size(), 1u);
  EXPECT_EQ(s["Groups"][0]["Identifier"], "fleetlock/workers");
  // Another client's unlock frees nothing of it.
  EXPECT_EQ(unlock("someone-else").status, 200);
  EXPECT_EQ(lock("second").status, 409);
  EXPECT_EQ(unlock("c988d2509fdf4cdcbed39037c56406fb").status, 200);
  // Holding nothing, unlocking still succeeds.
  EXPECT_EQ(unlock("c988d2509fdf4cdcbed39037c56406fb").status, 200);
  EXPECT_EQ(lock("second").status, 200);
}

TEST_F(fleetlock_fixture, a_full_group_queues_in_order_across_retries) {
  start();
  EXPECT_EQ(lock("a").status, 200);
  auto b = lock("b");
  EXPECT_EQ(b.status, 409);
  EXPECT_EQ(b.kind, "failed_lock_semaphore_full");
  EXPECT_NE(b.value.find("position 1 of 1"), std::string::npos) << b.value;
  auto c = lock("c");
  EXPECT_NE(c.value.find("position 2 of 2"), std::string::npos) << c.value;
  // Asking faster does not move c ahead of b.
  for (int i = 0; i < 5; ++i)
    EXPECT_NE(lock("c").value.find("position 2 of 2"), std::string::npos);
  EXPECT_EQ(unlock("a").status, 200);
  c = lock("c");
  EXPECT_EQ(c.status, 409);
  EXPECT_NE(c.value.find("position 1 of 1"), std::string::npos) << c.value;
  EXPECT_EQ(lock("b").status, 200);
  EXPECT_EQ(unlock("b").status, 200);
  EXPECT_EQ(lock("c").status, 200);
  // A group of its own has its own slot.
  EXPECT_EQ(lock("d", "infra").status, 200);
}

TEST_F(fleetlock_fixture, groups_are_apart_from_dominator_groups) {
  start();
  // A Dominator machine in a group named "workers" and a FleetLock client
  // in its group "workers": one slot each.
  EXPECT_EQ(disruption(server->port(), "request", "127.0.40.1",
                       R"({"DisruptionManagerGroupIdentifier":"workers"})"),
            "permitted");
  EXPECT_EQ(lock("127.0.40.1").status, 200);
  EXPECT_EQ(disruption(server->port(), "check", "127.0.40.1",
                       R"({"DisruptionManagerGroupIdentifier":"workers"})"),
            "permitted");
  auto s = state();
  ASSERT_EQ(s["Groups"].size(), 2u);
  EXPECT_EQ(s["Groups"][0]["Identifier"], "fleetlock/workers");
  EXPECT_EQ(s["Groups"][1]["Identifier"], "workers");
  // Metrics count FleetLock calls apart.
  auto metrics = http_get(server->port(), "/metrics").body;
  EXPECT_NE(metrics.find("protocol=\"fleetlock\",operation=\"request\","
                         "answer=\"permitted\"} 1"),
            std::string::npos);
}

TEST_F(fleetlock_fixture, a_holding_lapses_and_survives_a_restart) {
  start({"-fleetLockAllowedNetworks=127.0.0.1/32",
         "-maximumPermittedDuration=3s"});
  EXPECT_EQ(lock("a").status, 200);
  EXPECT_EQ(lock("b").status, 409);
  server->kill_hard();
  ASSERT_TRUE(server->start()) << server->log_text();
  EXPECT_EQ(lock("b").status, 409);
  EXPECT_EQ(lock("a").status, 200);
  // Nobody asks for a again: its holding lapses three seconds after its
  // last pre-reboot, and b (which keeps asking) gets the slot.
  auto since = std::chrono::steady_clock::now();
  EXPECT_EQ(lock_when_granted("b", 200ms), 200);
  EXPECT_GE(std::chrono::steady_clock::now() - since, 2s);
}

TEST_F(fleetlock_fixture, the_ready_gate_holds_the_slot_until_ready) {
  ready_endpoint endpoint;
  start(
      {"-fleetLockAllowedNetworks=127.0.0.0/8", "-fleetLockReadyTimeout=30s",
       "-fleetLockReadyUrl=http://127.0.0.1:" + std::to_string(endpoint.port) +
           "/ready/{{.Tags.FleetLockGroup}}/{{.Hostname}}"});
  EXPECT_EQ(lock("a").status, 200);
  EXPECT_EQ(lock("b").status, 409);
  EXPECT_EQ(unlock("a").status, 200);
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(lock("b").status, 409);
  EXPECT_GE(endpoint.hits.load(), 1);
  EXPECT_EQ(endpoint.last_path(), "/ready/workers/a");
  endpoint.status = 200;
  EXPECT_EQ(lock_when_granted("b", 50ms), 200);
}

// Operators reach FleetLock groups by their name under fleetlock/: a pause
// grants nothing new (the queue keeps its order), an override gives more
// slots, a release frees a holder's slot.
TEST_F(fleetlock_fixture, operator_pause_override_and_release_apply) {
  start();
  auto admin = [&](const std::string& op, const std::string& body) {
    return http_post(server->port(), "/api/v1/admin/" + op, body).status;
  };
  EXPECT_EQ(lock("a").status, 200);
  ASSERT_EQ(admin("pause", R"({"Group":"fleetlock/workers","Reason":"t"})"),
            200);
  EXPECT_EQ(unlock("a").status, 200);
  auto b = lock("b");
  EXPECT_EQ(b.status, 409);
  EXPECT_NE(b.value.find("position 1 of 1"), std::string::npos) << b.value;
  EXPECT_EQ(lock("c").status, 409);
  ASSERT_EQ(admin("resume", R"({"Group":"fleetlock/workers"})"), 200);
  EXPECT_EQ(lock("c").status, 409); // b came first
  EXPECT_EQ(lock("b").status, 200);
  // An override of two slots lets c in beside b.
  ASSERT_EQ(admin("limit", R"({"Group":"fleetlock/workers","Limit":2})"), 200);
  EXPECT_EQ(lock("c").status, 200);
  EXPECT_EQ(lock("d").status, 409);
  // Releasing b (a FleetLock machine is fleetlock/<id>) lets d in.
  ASSERT_EQ(admin("release", R"({"Host":"fleetlock/b","SkipReadyGate":true})"),
            200);
  EXPECT_EQ(lock("d").status, 200);
}

TEST_F(fleetlock_fixture, bad_requests_get_their_kind_and_change_nothing) {
  start();
  auto port = server->port();
  auto raw = [&](const std::string& request) {
    http_connection c(port);
    return read_answer(c.exchange(request));
  };
  struct bad_case {
    std::string request;
    int status;
    std::string kind;
  };
  std::vector<bad_case> cases = {
      {zincati_request("/v1/pre-reboot", zincati_body("a", "workers"), port,
                       ""),
       400, "bad_request"},
      {zincati_request("/v1/pre-reboot", zincati_body("a", "workers"), port,
                       "fleet-lock-protocol: false\r\n"),
       400, "bad_request"},
      {zincati_request("/v1/pre-reboot", "not json", port), 400, "bad_request"},
      {zincati_request("/v1/pre-reboot", R"({"client_params":{"group":"g"}})",
                       port),
       400, "bad_request"},
      {zincati_request("/v1/pre-reboot", zincati_body("", "workers"), port),
       400, "bad_request"},
      {zincati_request("/v1/pre-reboot",
                       R"({"client_params":{"id":7,"group":"g"}})", port),
       400, "bad_request"},
      {zincati_request("/v1/pre-reboot", zincati_body("a\\u0001b", "workers"),
                       port),
       400, "bad_request"},
      {zincati_request("/v1/pre-reboot", zincati_body("a", "bad/group"), port),
       400, "bad_group"},
      {zincati_request("/v1/pre-reboot", zincati_body("a", ""), port), 400,
       "bad_group"},
      {zincati_request("/v1/steady-state", R"({"client_params":{"id":"a"}})",
                       port),
       400, "bad_group"},
      {"GET /v1/pre-reboot HTTP/1.1\r\nhost: x\r\n"
       "fleet-lock-protocol: true\r\n\r\n",
       405, "method_not_allowed"},
  };
  for (const auto& c : cases) {
    auto a = raw(c.request);
    EXPECT_EQ(a.status, c.status) << c.request;
    EXPECT_EQ(a.kind, c.kind) << c.request << "\n" << a.body;
    EXPECT_FALSE(a.value.empty()) << c.request;
  }
  EXPECT_EQ(state()["Groups"].size(), 0u);
}

TEST_F(fleetlock_fixture, without_allowed_networks_only_certificates_serve) {
  test_pki pki;
  certificate_spec fleet;
  fleet.common_name = "zincati-fleet";
  fleet.client_auth = true;
  fleet.extensions = {{std::string(permitted_methods_oid),
                       der_utf8_string_list({"FleetLock.*"})}};
  auto [fleet_cert, fleet_key] = pki.write_client("fleet", fleet);
  start(server_tls_flags(pki));
  EXPECT_NE(server->log_text().find("no client network is allowed"),
            std::string::npos);
  auto refused = lock("a");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.kind, "forbidden");
  EXPECT_NE(refused.value.find("-fleetLockAllowedNetworks"), std::string::npos);
  auto over_tls = [&](const std::string& cert, const std::string& key) {
    auto context = client_tls(pki, cert, key);
    int fd = connect_from("127.0.0.1", server->port());
    EXPECT_GE(fd, 0);
    auto body = zincati_body("a", "workers");
    auto request = "POST /v1/pre-reboot HTTP/1.1\r\nhost: x\r\n"
                   "fleet-lock-protocol: true\r\nconnection: close\r\n"
                   "content-length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body;
    auto plain =
        tls_exchange(fd, *context, request,
                     [](const std::string& text, const tls_session& tls) {
                       return text.find("\r\n\r\n") != std::string::npos &&
                              tls.peer_closed();
                     });
    ::close(fd);
    return plain.size() >= 12 ? plain.substr(9, 3) : plain;
  };
  // The operator's certificate grants DisruptionManager.* only.
  EXPECT_EQ(over_tls(pki.operator_cert, pki.operator_key), "403");
  EXPECT_EQ(over_tls(fleet_cert, fleet_key), "200");
  EXPECT_EQ(state()["Groups"].size(), 1u);
}

TEST_F(fleetlock_fixture, networks_and_base_path_are_honoured) {
  start({"-fleetLockAllowedNetworks=10.0.0.0/8, 127.0.0.2/32",
         "-fleetLockBasePath=/fleet"});
  EXPECT_EQ(send("pre-reboot", "a", "workers", "/fleet").status, 403);
  EXPECT_EQ(send("pre-reboot", "a", "workers", "").status, 404);
  http_connection from_allowed(server->port(), "127.0.0.2");
  auto a = read_answer(from_allowed.exchange(zincati_request(
      "/fleet/v1/pre-reboot", zincati_body("a", "workers"), server->port())));
  EXPECT_EQ(a.status, 200) << a.body;
}

TEST(fleetlock_flags, bad_values_stop_the_service_with_a_reason) {
  for (const auto& [flag, words] :
       std::vector<std::pair<std::string, std::string>>{
           {"-fleetLockAllowedNetworks=10.0.0.0/33", "prefix length"},
           {"-fleetLockAllowedNetworks=bogus", "not a network"},
           {"-fleetLockBasePath=fleet/", "-fleetLockBasePath"},
           {"-fleetLockDefaultLimit=0", "-fleetLockDefaultLimit"},
           {"-fleetLockReadyTimeout=5", "-fleetLockReadyTimeout"}}) {
    temp_dir dir;
    server_process server(DM_SERVER_BINARY, dir.file("state"), {flag});
    EXPECT_FALSE(server.start(5s)) << flag;
    EXPECT_NE(server.log_text().find(words), std::string::npos)
        << flag << "\n"
        << server.log_text();
  }
}

// A FleetLock group gets maintenance windows from the admin operation like
// any group (docs/semantics.md, "Maintenance windows"): outside them a lock
// queues (409 with its place), and is granted once they allow it.
TEST_F(fleetlock_fixture, a_group_outside_its_window_queues_until_it_opens) {
  start();
  auto window = [&](const std::string& spec) {
    return http_post(
        server->port(), "/api/v1/admin/window",
        nlohmann::json{{"Group", "fleetlock/workers"}, {"Window", spec}}
            .dump());
  };
  // Closed now: it opens in two hours.
  auto closed = utc_window_at(std::chrono::system_clock::now() + 2h, 60min);
  ASSERT_EQ(window(closed).status, 200);
  auto a = lock("a");
  EXPECT_EQ(a.status, 409);
  EXPECT_EQ(a.kind, "failed_lock_semaphore_full");
  EXPECT_NE(a.value.find("position 1 of 1"), std::string::npos) << a.value;
  auto b = lock("b");
  EXPECT_NE(b.value.find("position 2 of 2"), std::string::npos) << b.value;
  EXPECT_EQ(lock("c", "infra").status, 200); // other groups go on
  auto s = state();
  ASSERT_EQ(s["Groups"].size(), 2u);
  EXPECT_EQ(s["Groups"][1]["Identifier"], "fleetlock/workers");
  EXPECT_EQ(s["Groups"][1]["Windows"]["Open"], false);
  // A window open now: the queue's head is granted, in order.
  auto open = utc_window_at(std::chrono::system_clock::now() - 1min, 120min);
  ASSERT_EQ(window(open).status, 200);
  EXPECT_EQ(lock("b").status, 409);
  EXPECT_EQ(lock("a").status, 200);
  EXPECT_EQ(unlock("a").status, 200);
  EXPECT_EQ(lock("b").status, 200); // the freed slot, while open
  EXPECT_EQ(unlock("b").status, 200);
  // Closed again, then cleared: granted at once.
  ASSERT_EQ(window(closed).status, 200);
  auto d = lock("d");
  EXPECT_EQ(d.status, 409);
  EXPECT_NE(d.value.find("position 1 of 1"), std::string::npos) << d.value;
  ASSERT_EQ(window("clear").status, 200);
  EXPECT_EQ(lock("d").status, 200);
}
