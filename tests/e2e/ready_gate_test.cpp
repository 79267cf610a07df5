// The ready gate end to end: a real HTTP server stands in for the machines'
// ready endpoints; the URL's path comes from the record through the template.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/support/http_client.hpp"
#include "tests/support/ready_endpoint.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dm::test;
using namespace std::chrono_literals;

namespace {

struct ready_fixture : ::testing::Test {
  temp_dir dir;
  ready_endpoint endpoint;
  std::unique_ptr<server_process> server;

  void SetUp() override {
    server =
        std::make_unique<server_process>(DM_SERVER_BINARY, dir.file("state"));
    ASSERT_TRUE(server->start()) << server->log_text();
  }

  std::string tags(const std::string& timeout) {
    nlohmann::json t = {{"DisruptionManagerGroupIdentifier", "Ready"},
                        {"DisruptionManagerReadyUrl",
                         "http://127.0.0.1:" + std::to_string(endpoint.port) +
                             "/ready/{{.Hostname}}"}};
    if (!timeout.empty())
      t["DisruptionManagerReadyTimeout"] = timeout;
    return t.dump();
  }

  std::string op(const std::string& what, const std::string& host,
                 const std::string& t) {
    return disruption(server->port(), what, host, t);
  }
};

} // namespace

TEST_F(ready_fixture, next_machine_waits_until_url_answers_200) {
  auto t = tags("30s");
  EXPECT_EQ(op("request", "127.0.30.1", t), "permitted");
  EXPECT_EQ(op("request", "127.0.30.2", t), "requested");
  EXPECT_EQ(op("cancel", "127.0.30.1", t), "denied");
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(op("check", "127.0.30.2", t), "requested");
  EXPECT_GE(endpoint.hits.load(), 2);
  EXPECT_EQ(endpoint.last_path(), "/ready/127.0.30.1");
  auto state =
      nlohmann::json::parse(http_get(server->port(), "/api/v1/state").body);
  ASSERT_EQ(state["Groups"][0]["Waiting"].size(), 1u);
  EXPECT_EQ(state["Groups"][0]["Waiting"][0]["ReadyUrl"],
            "http://127.0.0.1:" + std::to_string(endpoint.port) +
                "/ready/127.0.30.1");
  endpoint.status = 200;
  auto ready_at = std::chrono::steady_clock::now();
  std::string answer;
  while (std::chrono::steady_clock::now() - ready_at < 5s) {
    answer = op("check", "127.0.30.2", t);
    if (answer == "permitted")
      break;
    std::this_thread::sleep_for(20ms);
  }
  auto took = std::chrono::steady_clock::now() - ready_at;
  EXPECT_EQ(answer, "permitted");
  // Back-off is at most 1/64 of the 30 s timeout, so well within a second.
  EXPECT_LT(took, 1s);
}

TEST_F(ready_fixture, never_ready_url_releases_at_the_timeout_not_before) {
  auto t = tags("3s");
  EXPECT_EQ(op("request", "127.0.31.1", t), "permitted");
  EXPECT_EQ(op("request", "127.0.31.2", t), "requested");
  auto cancelled = std::chrono::steady_clock::now();
  EXPECT_EQ(op("cancel", "127.0.31.1", t), "denied");
  std::this_thread::sleep_until(cancelled + 2500ms);
  EXPECT_EQ(op("check", "127.0.31.2", t), "requested");
  std::this_thread::sleep_until(cancelled + 3500ms);
  EXPECT_EQ(op("check", "127.0.31.2", t), "permitted");
  auto hits = endpoint.hits.load();
  EXPECT_GE(hits, 5);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(endpoint.hits.load(), hits); // probing stopped
}

// A hostile ready URL template is refused: the reported form (thousands of
// 60000-byte variables) at the door by the tag's size limit, and one within
// that limit by the template's string budget, on the path of any unusable
// template: no gate, and the reason logged.
TEST_F(ready_fixture, template_execution_is_bounded) {
  std::string huge;
  for (int i = 0; i < 3000; ++i)
    huge += "{{$v" + std::to_string(i) + " := printf \"%60000d\" 1}}";
  nlohmann::json too_long = {{"DisruptionManagerGroupIdentifier", "huge"},
                             {"DisruptionManagerReadyUrl", huge}};
  EXPECT_NE(op("cancel", "127.0.33.1", too_long.dump())
                .find("DisruptionManagerReadyUrl is longer than 4096 bytes"),
            std::string::npos);
  // 32000-byte strings made twenty times over (each result under the
  // printf limit): 1.3 MB of strings from a template of 700 bytes.
  std::string heavy =
      "{{$a := printf \"%4000d\" 1}}"
      "{{$b := printf \"%s%s%s%s%s%s%s%s\" $a $a $a $a $a $a $a $a}}";
  for (int i = 0; i < 20; ++i)
    heavy += "{{$c := printf \"%s%s\" $b $b}}";
  const std::string host = "127.0.33.2";
  nlohmann::json t = {{"DisruptionManagerGroupIdentifier", host},
                      {"DisruptionManagerReadyUrl", heavy}};
  EXPECT_EQ(op("request", host, t.dump()), "permitted");
  EXPECT_EQ(op("cancel", host, t.dump()), "denied");
  auto logs = http_get(server->port(), "/logs").body;
  EXPECT_NE(logs.find(host + ": no ready gate applied: "
                             "DisruptionManagerReadyUrl: template: "),
            std::string::npos)
      << logs.substr(0, 2000);
  EXPECT_NE(logs.find("more than 1048576 bytes of strings"), std::string::npos)
      << logs.substr(logs.find(host + ": no ready gate"), 400);
  EXPECT_EQ(op("request", "127.0.33.9", tags("")), "permitted");
}

TEST_F(ready_fixture, unparsable_gate_applies_none_and_is_logged) {
  nlohmann::json t = {{"DisruptionManagerGroupIdentifier", "Bad"},
                      {"DisruptionManagerReadyTimeout", "soon"}};
  EXPECT_EQ(op("request", "127.0.32.1", t.dump()), "permitted");
  EXPECT_EQ(op("request", "127.0.32.2", t.dump()), "requested");
  EXPECT_EQ(op("cancel", "127.0.32.1", t.dump()), "denied");
  EXPECT_EQ(op("check", "127.0.32.2", t.dump()), "permitted");
  auto logs = http_get(server->port(), "/logs").body;
  EXPECT_NE(logs.find("127.0.32.1: no ready gate applied"), std::string::npos)
      << logs;
  auto dashboard = http_get(server->port(), "/showState").body;
  EXPECT_NE(dashboard.find("DisruptionManagerReadyTimeout"), std::string::npos);
}

// A ready endpoint as real ones may be: behind a redirect, asking for
// Basic authorization from the URL's user information, and sending its
// status at once but its body slowly. The original's http.Get frees the
// slot on such a 200; so must we, long before the ready timeout.
TEST(ready_gate_fetch, redirect_basic_authorization_and_slow_body) {
  httplib::Server web;
  std::atomic<int> authorized{0};
  std::atomic<bool> stopping{false};
  web.Get(R"(/start/(.+))",
          [](const httplib::Request& req, httplib::Response& res) {
            // Relative, as many servers send it.
            res.set_redirect("/ready/" + req.matches[1].str(), 302);
          });
  web.Get(R"(/ready/(.+))", [&](const httplib::Request& req,
                                httplib::Response& res) {
    // "user:secret", base64.
    if (req.get_header_value("Authorization") != "Basic dXNlcjpzZWNyZXQ=") {
      res.status = 401;
      return;
    }
    ++authorized;
    // Ten bytes over a minute: each pause outlasts a probe's five-second
    // timeout.
    res.set_content_provider(
        10, "text/plain",
        [&](std::size_t, std::size_t, httplib::DataSink& sink) {
          for (int i = 0; i < 60; ++i) {
            if (stopping)
              return false;
            std::this_thread::sleep_for(100ms);
          }
          return sink.write("x", 1);
        });
  });
  int port = web.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { web.listen_after_bind(); });
  while (!web.is_running())
    std::this_thread::sleep_for(5ms);

  temp_dir dir;
  server_process server(DM_SERVER_BINARY, dir.file("state"));
  ASSERT_TRUE(server.start()) << server.log_text();
  nlohmann::json tags = {{"DisruptionManagerGroupIdentifier", "Fetch"},
                         {"DisruptionManagerReadyTimeout", "120s"},
                         {"DisruptionManagerReadyUrl",
                          "http://user:secret@127.0.0.1:" +
                              std::to_string(port) + "/start/{{.Hostname}}"}};
  auto op = [&](const std::string& what, const std::string& host) {
    return disruption(server.port(), what, host, tags.dump());
  };
  EXPECT_EQ(op("request", "127.0.33.1"), "permitted");
  EXPECT_EQ(op("request", "127.0.33.2"), "requested");
  EXPECT_EQ(op("cancel", "127.0.33.1"), "denied");
  auto cancelled = std::chrono::steady_clock::now();
  std::string answer;
  // Generous: the first probe goes out at once; the timeout is 120 s.
  while (std::chrono::steady_clock::now() - cancelled < 60s) {
    answer = op("check", "127.0.33.2");
    if (answer == "permitted")
      break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(answer, "permitted") << server.log_text();
  EXPECT_GE(authorized.load(), 1);
  stopping = true;
  web.stop();
  serving.join();
}
