// The real disruption-manager-admin binary against the real server: who may
// act (a certificate with power over DisruptionManager.Admin over HTTPS;
// loopback on a server without TLS), each operation's effect on real REST
// and SRPC calls, the audit trail, settings surviving SIGKILL and restart,
// and bad input refused with a reason, changing nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"

using namespace dm::test;

namespace {

std::string sibling_binary(const char* name) {
  return (std::filesystem::path(DM_SERVER_BINARY).parent_path() / name)
      .string();
}

// The admin program's exit statuses (src/client/admin_client.hpp).
constexpr int done = 0, usage = 2, refused = 4, rejected = 5;

struct admin_program : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<server_process> server;

  void SetUp() override {
    for (const char* name :
         {"disruption-manager-admin", "disruption-manager-client"})
      ASSERT_TRUE(std::filesystem::exists(sibling_binary(name)))
          << "build the " << name << " target first";
  }

  void start(std::vector<std::string> args) {
    server = std::make_unique<server_process>(DM_SERVER_BINARY,
                                              dir.file("state"), args);
    ASSERT_TRUE(server->start()) << server->log_text();
  }
  void start_plain() {
    start({"-certFile=" + dir.file("none.pem"),
           "-keyFile=" + dir.file("none.key")});
  }

  std::string base(const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(server->port());
  }

  program_run admin(std::vector<std::string> args,
                    std::vector<std::string> flags = {}) {
    std::vector<std::string> argv = {sibling_binary("disruption-manager-admin"),
                                     "-disruptionManagerUrl=" + base() + "/",
                                     "-timeout=10s"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, program_options{});
  }

  // A machine's call through the client program, from the machine's own
  // address (REST: http, SRPC: srpc); its exit status (0 permitted,
  // 1 requested, 2 denied).
  // `more_tags`: further tags, as JSON members.
  int machine(const std::string& host, const std::string& group,
              const std::string& op, const std::string& scheme = "http",
              const std::string& more_tags = "") {
    auto name = "record-" + host + ".json";
    dir.write(name, R"({"Hostname":")" + host +
                        R"(","Tags":{"DisruptionManagerGroupIdentifier":")" +
                        group + "\"" +
                        (more_tags.empty() ? "" : "," + more_tags) + "}}");
    auto url = scheme == "http" ? base() + "/api/v1/request" : base(scheme);
    auto run = run_program({sibling_binary("disruption-manager-client"),
                            "-disruptionManagerUrl=" + url,
                            "-mdbFile=" + dir.file(name),
                            "-sourceAddress=" + host, "-timeout=10s", op},
                           program_options{});
    EXPECT_LE(run.exit_code, 2) << run.err;
    return run.exit_code;
  }

  nlohmann::json status() {
    auto run = admin({"status"});
    EXPECT_EQ(run.exit_code, done) << run.err;
    return nlohmann::json::parse(run.out, nullptr, false);
  }
};

} // namespace

TEST_F(admin_program, help_lists_every_operation) {
  start_plain();
  auto run = admin({"-h"});
  EXPECT_EQ(run.exit_code, usage);
  for (const char* op :
       {"status", "release HOST", "pause GROUP", "resume GROUP", "freeze",
        "thaw", "limit GROUP N|clear"})
    EXPECT_NE(run.err.find(op), std::string::npos) << op << "\n" << run.err;
}

TEST_F(admin_program, pause_override_and_release_act_on_rest_and_srpc) {
  start_plain();
  EXPECT_EQ(admin({"limit", "G", "3"}).exit_code, done);
  EXPECT_EQ(machine("127.0.50.1", "G", "request"), 0);
  EXPECT_EQ(machine("127.0.50.2", "G", "request", "srpc"), 0); // 3, not 1
  auto paused = admin({"pause", "G"}, {"-reason=incident 7"});
  EXPECT_EQ(paused.exit_code, done) << paused.err;
  EXPECT_EQ(paused.out, "pause G: done\n");
  // A free slot, but nothing new while paused; permits given stay.
  EXPECT_EQ(machine("127.0.50.3", "G", "request"), 1);
  EXPECT_EQ(machine("127.0.50.3", "G", "check", "srpc"), 1);
  EXPECT_EQ(machine("127.0.50.1", "G", "check"), 0);
  EXPECT_EQ(machine("127.0.50.9", "H", "request"), 0); // other groups go on
  EXPECT_EQ(admin({"resume", "G"}).exit_code, done);
  EXPECT_EQ(machine("127.0.50.3", "G", "check", "srpc+json"), 0);
  EXPECT_EQ(machine("127.0.50.4", "G", "request"), 1); // three in use
  // Back to the tag's limit of 1: nobody is granted until two leave.
  EXPECT_EQ(admin({"limit", "G", "clear"}).exit_code, done);
  auto released = admin({"release", "127.0.50.1"}, {"-skipReadyGate"});
  EXPECT_EQ(released.exit_code, done) << released.err;
  EXPECT_EQ(released.out, "release 127.0.50.1: done (ready gate skipped)\n");
  EXPECT_EQ(machine("127.0.50.1", "G", "check"), 2);
  EXPECT_EQ(machine("127.0.50.4", "G", "check"), 1);
  EXPECT_EQ(admin({"release", "127.0.50.2"}).exit_code, done);
  EXPECT_EQ(admin({"release", "127.0.50.3"}).exit_code, done);
  EXPECT_EQ(machine("127.0.50.4", "G", "check", "srpc"), 0);
}

TEST_F(admin_program, freeze_stops_every_group_until_thawed) {
  start_plain();
  EXPECT_EQ(admin({"freeze"}, {"-reason=change freeze"}).exit_code, done);
  EXPECT_EQ(machine("127.0.51.1", "G", "request"), 1);
  EXPECT_EQ(machine("127.0.51.2", "H", "request", "srpc"), 1);
  EXPECT_EQ(admin({"thaw"}).exit_code, done);
  EXPECT_EQ(machine("127.0.51.1", "G", "check"), 0);
  EXPECT_EQ(machine("127.0.51.2", "H", "check", "srpc"), 0);
}

TEST_F(admin_program, audit_trail_in_status_state_and_metrics) {
  start_plain();
  EXPECT_EQ(machine("127.0.52.1", "G", "request"), 0);
  admin({"pause", "G"}, {"-reason=disk swap"});
  admin({"limit", "H", "4"});
  admin({"release", "127.0.52.1"}, {"-reason=machine gone"});
  auto doc = status();
  ASSERT_TRUE(doc.is_object());
  const auto& audit = doc["Audit"];
  ASSERT_EQ(audit.size(), 3u) << doc.dump(2);
  EXPECT_EQ(audit[0]["Operation"], "pause");
  EXPECT_EQ(audit[0]["Target"], "G");
  EXPECT_EQ(audit[0]["Who"], "127.0.0.1");
  EXPECT_EQ(audit[0]["Reason"], "disk swap");
  EXPECT_EQ(audit[1]["Detail"], "4");
  EXPECT_EQ(audit[2]["Operation"], "release");
  EXPECT_EQ(audit[2]["Reason"], "machine gone");
  EXPECT_EQ(doc["GroupSettings"].size(), 2u);
  auto state = nlohmann::json::parse(
      http_get(server->port(), "/api/v1/state").body, nullptr, false);
  ASSERT_TRUE(state.contains("Admin")) << state.dump(2);
  EXPECT_EQ(state["Admin"]["Audit"].size(), 3u);
  auto dashboard = http_get(server->port(), "/showState").body;
  EXPECT_NE(dashboard.find("disk swap"), std::string::npos);
  EXPECT_NE(dashboard.find("id=\"audit\""), std::string::npos);
  auto metrics = http_get(server->port(), "/metrics").body;
  EXPECT_NE(metrics.find("disruption_manager_admin_operations_total{operation="
                         "\"pause\",outcome=\"done\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("disruption_manager_admin_operations_total{operation="
                         "\"status\",outcome=\"done\"} 1"),
            std::string::npos);
  EXPECT_NE(server->log_text().find(
                "admin pause group=\"G\" by 127.0.0.1: disk swap"),
            std::string::npos)
      << server->log_text();
}

TEST_F(admin_program, settings_survive_sigkill_and_restart) {
  start_plain();
  EXPECT_EQ(machine("127.0.53.1", "G", "request"), 0);
  EXPECT_EQ(admin({"pause", "G"}).exit_code, done);
  EXPECT_EQ(admin({"limit", "G", "5"}).exit_code, done);
  EXPECT_EQ(admin({"freeze"}).exit_code, done);
  EXPECT_EQ(machine("127.0.53.2", "K", "request"), 1);
  server->kill_hard();
  ASSERT_TRUE(server->start()) << server->log_text();
  auto doc = status();
  EXPECT_EQ(doc["Frozen"], true);
  EXPECT_EQ(doc["Audit"].size(), 3u);
  EXPECT_EQ(machine("127.0.53.3", "G", "request", "srpc"), 1);
  EXPECT_EQ(machine("127.0.53.2", "K", "check"), 1);
  EXPECT_EQ(admin({"thaw"}).exit_code, done);
  EXPECT_EQ(machine("127.0.53.2", "K", "check"), 0);
  EXPECT_EQ(machine("127.0.53.3", "G", "check"), 1); // still paused
  EXPECT_EQ(admin({"resume", "G"}).exit_code, done);
  // The override of 5 came back too: both are granted.
  EXPECT_EQ(machine("127.0.53.3", "G", "check"), 0);
  EXPECT_EQ(machine("127.0.53.1", "G", "check"), 0);
}

TEST_F(admin_program, a_machine_only_waiting_is_released_by_skipping_the_gate) {
  start_plain();
  // A machine that only waits on its group's ready gate: a release that
  // keeps the gate would change nothing, and says so; skipping it ends
  // the wait and hands the slot on.
  const std::string gate = R"("DisruptionManagerReadyTimeout":"1h")";
  EXPECT_EQ(machine("127.0.54.1", "W", "request", "http", gate), 0);
  EXPECT_EQ(machine("127.0.54.2", "W", "request", "http", gate), 1);
  EXPECT_EQ(machine("127.0.54.1", "W", "cancel", "http", gate), 2);
  auto run = admin({"release", "127.0.54.1"});
  EXPECT_EQ(run.exit_code, rejected) << run.err;
  EXPECT_NE(run.err.find("409"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("only waits on its group's ready gate"),
            std::string::npos)
      << run.err;
  EXPECT_EQ(machine("127.0.54.2", "W", "check", "http", gate), 1);
  run = admin({"release", "127.0.54.1"}, {"-skipReadyGate"});
  EXPECT_EQ(run.exit_code, done) << run.err;
  EXPECT_EQ(machine("127.0.54.2", "W", "check", "http", gate), 0);
}

TEST_F(admin_program, bad_input_is_refused_naming_it_and_changes_nothing) {
  start_plain();
  auto run = admin({"limit", "G", "0"});
  EXPECT_EQ(run.exit_code, rejected);
  EXPECT_NE(run.err.find("Limit must be a whole number from 1"),
            std::string::npos)
      << run.err;
  run = admin({"release", "nobody.example"});
  EXPECT_EQ(run.exit_code, rejected);
  EXPECT_NE(run.err.find("holds no permit or request"), std::string::npos);
  EXPECT_EQ(admin({"limit", "G", "many"}).exit_code, usage);
  EXPECT_EQ(admin({"pause"}).exit_code, usage);
  EXPECT_EQ(admin({"unpause", "G"}).exit_code, usage);
  EXPECT_EQ(admin({"freeze"}, {"-skipReadyGate"}).exit_code, usage);
  run = admin({"status"}, {"-disruptionManagerUrl=srpc://127.0.0.1:1"});
  EXPECT_EQ(run.exit_code, usage);
  int port = server->port();
  struct raw_case {
    std::string path, body;
    int status;
    std::string says;
  };
  for (const auto& c : std::vector<raw_case>{
           {"/api/v1/admin/pause", R"({"Group": 5})", 400,
            "Group is not a string"},
           {"/api/v1/admin/pause", R"({"Grup": "G"})", 400,
            "pause takes no member \"Grup\""},
           {"/api/v1/admin/pause", R"({})", 400, "pause needs a Group"},
           {"/api/v1/admin/pause", "{", 400, "the body is not JSON"},
           {"/api/v1/admin/pause", R"(["G"])", 400, "not a JSON object"},
           {"/api/v1/admin/pause", R"({"Group": "G\u0001"})", 400,
            "Group contains a control character"},
           {"/api/v1/admin/limit", R"({"Group": "G", "Limit": 1000001})", 400,
            "Limit must be"},
           {"/api/v1/admin/limit", R"({"Group": "G", "Limit": -1})", 400,
            "Limit must be"},
           {"/api/v1/admin/limit", R"({"Group": "G", "Limit": 2.5})", 400,
            "Limit must be"},
           {"/api/v1/admin/release", R"({"Host": "a", "SkipReadyGate": 1})",
            400, "SkipReadyGate is not true or false"},
           {"/api/v1/admin/release", R"({"Host": ""})", 400, "Host is empty"},
           {"/api/v1/admin/freeze", R"({"Reason": 7})", 400,
            "Reason is not a string"},
           {"/api/v1/admin/reboot", R"({})", 404, "no admin operation"},
       }) {
    auto answer = http_post(port, c.path, c.body);
    EXPECT_EQ(answer.status, c.status) << c.path << " " << c.body;
    EXPECT_NE(answer.body.find(c.says), std::string::npos)
        << c.body << " -> " << answer.body;
  }
  EXPECT_EQ(http_get(port, "/api/v1/admin/pause").status, 405);
  auto doc = status();
  EXPECT_EQ(doc["Frozen"], false);
  EXPECT_TRUE(doc["GroupSettings"].empty());
  EXPECT_TRUE(doc["Audit"].empty());
}

namespace {

struct admin_program_tls : admin_program {
  test_pki pki;

  void SetUp() override {
    admin_program::SetUp();
    start(server_tls_flags(pki));
  }

  program_run admin_as(const std::string& cert, const std::string& key,
                       std::vector<std::string> args) {
    std::vector<std::string> flags = {"-disruptionManagerUrl=" + base("https"),
                                      "-CAfile=" + pki.ca_cert};
    if (!cert.empty()) {
      flags.push_back("-certFile=" + cert);
      flags.push_back("-keyFile=" + key);
    }
    return admin(std::move(args), std::move(flags));
  }
};

} // namespace

TEST_F(admin_program_tls, operator_certificate_may_act_and_is_named) {
  auto run = admin_as(pki.operator_cert, pki.operator_key, {"pause", "T"});
  EXPECT_EQ(run.exit_code, done) << run.err;
  // The machine with a certificate of its own is queued over HTTPS.
  auto record = dir.file("m.json");
  dir.write("m.json", R"({"Hostname":"127.0.0.5","Tags":)"
                      R"({"DisruptionManagerGroupIdentifier":"T"}})");
  auto call =
      run_program({sibling_binary("disruption-manager-client"),
                   "-disruptionManagerUrl=" + base("https") + "/api/v1/request",
                   "-mdbFile=" + record, "-certFile=" + pki.machine_cert,
                   "-keyFile=" + pki.machine_key, "-CAfile=" + pki.ca_cert,
                   "-sourceAddress=127.0.0.5", "request"},
                  program_options{});
  EXPECT_EQ(call.exit_code, 1) << call.err;
  run = admin_as(pki.operator_cert, pki.operator_key, {"status"});
  ASSERT_EQ(run.exit_code, done) << run.err;
  auto doc = nlohmann::json::parse(run.out, nullptr, false);
  ASSERT_EQ(doc["Audit"].size(), 1u);
  EXPECT_EQ(doc["Audit"][0]["Who"], "operator");
}

TEST_F(admin_program_tls, anyone_without_the_power_is_refused_with_a_reason) {
  auto run = admin_as(pki.machine_cert, pki.machine_key, {"freeze"});
  EXPECT_EQ(run.exit_code, refused) << run.err;
  EXPECT_NE(run.err.find("no power over DisruptionManager.Admin"),
            std::string::npos)
      << run.err;
  run = admin_as("", "", {"freeze"});
  EXPECT_EQ(run.exit_code, refused) << run.err;
  EXPECT_NE(run.err.find("client certificate"), std::string::npos) << run.err;
  // Plain HTTP to a server with TLS, even from its own host.
  run = admin({"freeze"});
  EXPECT_EQ(run.exit_code, refused) << run.err;
  EXPECT_NE(run.err.find("HTTPS"), std::string::npos) << run.err;
  run = admin_as(pki.operator_cert, pki.operator_key, {"status"});
  auto doc = nlohmann::json::parse(run.out, nullptr, false);
  EXPECT_EQ(doc["Frozen"], false);
  EXPECT_TRUE(doc["Audit"].empty());
}
