// The real disruption-manager-admin binary against the real server: who may
// act (a certificate with power over DisruptionManager.Admin over HTTPS;
// loopback on a server without TLS), each operation's effect on real REST
// and SRPC calls, the audit trail, settings surviving SIGKILL and restart,
// and bad input refused with a reason, changing nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/support/window_specs.hpp"

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
        "thaw", "limit GROUP N|clear", "window GROUP SPEC|clear"})
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

// Maintenance windows (docs/semantics.md, "Maintenance windows").
namespace {

// The window tag as a member for admin_program::machine's `more_tags`.
std::string window_tag(const std::string& spec) {
  return "\"DisruptionManagerMaintenanceWindow\":" +
         nlohmann::json(spec).dump();
}

using std::chrono::system_clock;
using namespace std::chrono_literals;

system_clock::time_point wall_now() {
  return system_clock::now();
}

// A window closed now: it opens in two hours, for an hour.
std::string closed_window() {
  return utc_window_at(wall_now() + 2h, 60min);
}
// A window open now, for another hour at least.
std::string open_window() {
  return utc_window_at(wall_now() - 1min, 120min);
}

} // namespace

TEST_F(admin_program, window_holds_rest_and_srpc_requests_until_it_opens) {
  start_plain();
  // The next whole minute at least 5 s away: the window opens then, by the
  // group's own timer, with no call to wake it.
  auto opens = std::chrono::ceil<std::chrono::minutes>(wall_now() + 5s);
  auto spec = utc_window_at(opens, 10min);
  auto set = admin({"window", "G", spec}, {"-reason=night work"});
  ASSERT_EQ(set.exit_code, done) << set.err;
  EXPECT_EQ(set.out, "window G " + spec + ": done\n");
  EXPECT_EQ(machine("127.0.55.1", "G", "request"), 1);
  EXPECT_EQ(machine("127.0.55.2", "G", "request", "srpc"), 1);
  EXPECT_EQ(machine("127.0.55.1", "G", "check", "srpc+json"), 1);
  EXPECT_EQ(machine("127.0.55.9", "H", "request"), 0); // other groups go on
  auto doc = status();
  ASSERT_EQ(doc["Groups"].size(), 2u);
  const auto& g = doc["Groups"][0];
  EXPECT_EQ(g["Granting"], false);
  EXPECT_EQ(g["Windows"]["Spec"], spec);
  EXPECT_EQ(g["Windows"]["From"], "operator");
  EXPECT_EQ(g["Windows"]["Open"], false);
  EXPECT_TRUE(g["Windows"].contains("NextChange")) << g.dump();
  EXPECT_EQ(doc["GroupSettings"][0]["Window"], spec);
  auto state = nlohmann::json::parse(
      http_get(server->port(), "/api/v1/state").body, nullptr, false);
  EXPECT_EQ(state["Groups"][0]["Windows"]["Open"], false) << state.dump();
  EXPECT_NE(
      http_get(server->port(), "/metrics")
          .body.find("disruption_manager_group_window_open{group=\"G\"} 0"),
      std::string::npos);
  // Granted in order once it opens (generous bound: a minute and more).
  int first = 1;
  while (first != 0 && wall_now() < opens + 60s) {
    std::this_thread::sleep_for(500ms);
    first = machine("127.0.55.1", "G", "check");
  }
  EXPECT_EQ(first, 0);
  EXPECT_EQ(machine("127.0.55.2", "G", "check", "srpc"), 1); // limit 1
  EXPECT_EQ(status()["Groups"][0]["Windows"]["Open"], true);
  EXPECT_EQ(admin({"release", "127.0.55.1"}).exit_code, done);
  EXPECT_EQ(machine("127.0.55.2", "G", "check", "srpc"), 0);
}

TEST_F(admin_program, windows_survive_sigkill_and_restart_and_clear) {
  start_plain();
  auto spec = closed_window();
  EXPECT_EQ(admin({"window", "G", spec}).exit_code, done);
  EXPECT_EQ(machine("127.0.56.1", "G", "request"), 1);
  server->kill_hard();
  ASSERT_TRUE(server->start()) << server->log_text();
  EXPECT_EQ(machine("127.0.56.1", "G", "check", "srpc"), 1);
  EXPECT_EQ(machine("127.0.56.2", "G", "request"), 1);
  auto doc = status();
  EXPECT_EQ(doc["GroupSettings"][0]["Window"], spec);
  ASSERT_EQ(doc["Audit"].size(), 1u);
  EXPECT_EQ(doc["Audit"][0]["Operation"], "window");
  EXPECT_EQ(doc["Audit"][0]["Detail"], spec);
  // Cleared: the queue is granted at once, in order.
  EXPECT_EQ(admin({"window", "G", "clear"}).exit_code, done);
  EXPECT_EQ(machine("127.0.56.1", "G", "check"), 0);
  EXPECT_EQ(machine("127.0.56.2", "G", "check", "srpc"), 1);
  EXPECT_TRUE(status()["GroupSettings"].empty());
}

TEST_F(admin_program, a_bad_window_is_refused_naming_it_and_changes_nothing) {
  start_plain();
  struct bad_case {
    std::string spec, says;
  };
  for (const auto& c : std::vector<bad_case>{
           {"Mox-Fri 01:00-05:00 UTC", "bad day \"Mox\""},
           {"Mon 25:00-26:00 UTC", "bad time \"25:00\""},
           {"Mon 01:00-05:00 Europe/Berln",
            "unknown time zone \"Europe/Berln\""},
           {"Mon 01:00-01:00 UTC", "empty span \"01:00-01:00\""},
           {"", "the maintenance window spec is empty"},
           {"Mon 01:00-05:00",
            "window \"Mon 01:00-05:00\" is not DAYS HH:MM-HH:MM ZONE"},
       }) {
    auto run = admin({"window", "G", c.spec});
    EXPECT_EQ(run.exit_code, rejected) << c.spec << ": " << run.err;
    EXPECT_NE(run.err.find("server answered 400: Window: " + c.says),
              std::string::npos)
        << run.err;
  }
  EXPECT_EQ(admin({"window", "G"}).exit_code, usage);
  auto doc = status();
  EXPECT_TRUE(doc["GroupSettings"].empty());
  EXPECT_TRUE(doc["Audit"].empty());
  EXPECT_EQ(machine("127.0.57.1", "G", "request"), 0);
}

// The records' tag: the group follows it unless an operator set windows; a
// tag that cannot be read refuses the call over REST and SRPC.
TEST_F(admin_program, the_window_tag_queues_and_a_bad_tag_is_refused) {
  start_plain();
  auto closed = closed_window();
  EXPECT_EQ(machine("127.0.58.1", "G", "request", "http", window_tag(closed)),
            1);
  EXPECT_EQ(machine("127.0.58.1", "G", "check", "srpc", window_tag(closed)), 1);
  auto doc = status();
  EXPECT_EQ(doc["Groups"][0]["Windows"]["From"], "tag");
  EXPECT_EQ(doc["Groups"][0]["Windows"]["Spec"], closed);
  // The operator's open window wins over the tag.
  EXPECT_EQ(admin({"window", "G", open_window()}).exit_code, done);
  EXPECT_EQ(machine("127.0.58.1", "G", "check", "http", window_tag(closed)), 0);
  EXPECT_EQ(admin({"window", "G", "clear"}).exit_code, done);
  EXPECT_EQ(machine("127.0.58.2", "G", "request", "srpc", window_tag(closed)),
            1);
  // Bad tags: refused with the reason, nothing changes.
  auto record = [](const std::string& host, const std::string& windows) {
    return nlohmann::json{
        {"MDB",
         {{"Hostname", host},
          {"Tags",
           {{"DisruptionManagerGroupIdentifier", "G"},
            {"DisruptionManagerMaintenanceWindow", windows}}}}},
        {"Request", "request"}}
        .dump();
  };
  auto rest = http_post(server->port(), "/api/v1/request",
                        record("127.0.58.3", "Mon 01:00-05:00 Mars/Olympus"),
                        "127.0.58.3");
  EXPECT_EQ(rest.status, 400);
  EXPECT_NE(rest.body.find("tag DisruptionManagerMaintenanceWindow: unknown "
                           "time zone \"Mars/Olympus\""),
            std::string::npos)
      << rest.body;
  dir.write("bad.json",
            R"({"Hostname":"127.0.58.4","Tags":{)"
            R"("DisruptionManagerGroupIdentifier":"G",)"
            R"("DisruptionManagerMaintenanceWindow":"Mon 9-5 UTC"}})");
  auto srpc =
      run_program({sibling_binary("disruption-manager-client"),
                   "-disruptionManagerUrl=" + base("srpc"),
                   "-mdbFile=" + dir.file("bad.json"),
                   "-sourceAddress=127.0.58.4", "-timeout=10s", "request"},
                  program_options{});
  EXPECT_GT(srpc.exit_code, 2);
  EXPECT_NE(srpc.err.find("bad time \"9\""), std::string::npos) << srpc.err;
  auto state = nlohmann::json::parse(
      http_get(server->port(), "/api/v1/state").body, nullptr, false);
  EXPECT_EQ(state.dump().find("127.0.58.3"), std::string::npos);
  EXPECT_EQ(state.dump().find("127.0.58.4"), std::string::npos);
}
