// The SysV init script (config/disruption-manager.init) baby-sitting the real
// server binary: start, restart after kill -9, stop, and status exit codes.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <unistd.h>

#include "tests/support/http_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dm::test;
using namespace std::chrono_literals;

namespace {

// LSB status exit codes.
constexpr int status_running = 0;
constexpr int status_not_running = 3;

const std::string group_tags = R"({"DisruptionManagerGroupIdentifier":"G"})";

bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds within = 10s) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition())
      return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

// Gone means no such process, or a zombie: the baby-sitter is an orphan
// whose new parent may not have reaped it yet.
bool process_gone(pid_t pid) {
  if (::kill(pid, 0) != 0)
    return errno == ESRCH;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() &&
         line[paren + 2] == 'Z';
}

bool port_accepts(int port) {
  int fd = connect_from("127.0.0.1", port);
  if (fd < 0)
    return false;
  ::close(fd);
  return true;
}

struct init_script_fixture : ::testing::Test {
  temp_dir dir;
  int port = free_port();
  std::string extra_args; // appended to the daemon's flags

  std::string daemon_pid_file() const {
    return dir.file("disruption-manager.pid");
  }
  std::string loop_pid_file() const {
    return dir.file("disruption-manager.babysitter.pid");
  }

  // Runs the script as an administrator would, with every path inside the
  // test's directory and the daemon run as the current user.
  int run(const std::string& command, std::string* output = nullptr) {
    std::string args = "-portNum=" + std::to_string(port) +
                       " -stateDir=" + dir.file("state") +
                       " -logDir=" + dir.file("logs") + extra_args;
    if (::geteuid() == 0)
      args += " -allowRoot";
    std::string text;
    int rc = run_program(
        {"/usr/bin/env", "DEFAULTS_FILE=", "DAEMON=" DM_SERVER_BINARY,
         "DAEMON_ARGS=" + args, "RUN_AS_USER=", "PIDDIR=" + dir.path(),
         "LOGFILE=" + dir.file("init.log"), "STOP_TIMEOUT=10", "/bin/bash",
         DM_SOURCE_DIR "/config/disruption-manager.init", command},
        text);
    if (output)
      *output = text;
    return rc;
  }

  pid_t read_pid(const std::string& file) const {
    std::ifstream in(file);
    long pid = -1;
    if (!(in >> pid) || pid <= 1)
      return -1;
    return static_cast<pid_t>(pid);
  }

  std::string diagnostics() const {
    return "init.log:\n" + dir.read("init.log");
  }

  // Whatever happened in the test, leave no process behind.
  void TearDown() override {
    pid_t loop = read_pid(loop_pid_file());
    pid_t daemon = read_pid(daemon_pid_file());
    run("stop");
    for (pid_t pid : {loop, daemon})
      if (pid > 0 && !process_gone(pid))
        ::kill(pid, SIGKILL);
  }
};

} // namespace

TEST_F(init_script_fixture, a_daemon_that_cannot_start_leaves_nothing_running) {
  extra_args = " -noSuchFlag";
  std::string output;
  EXPECT_EQ(run("start", &output), 1) << output << diagnostics();
  EXPECT_NE(output.find("did not stay up"), std::string::npos) << output;
  // No baby-sitter left restarting it: status agrees with start.
  EXPECT_EQ(run("status", &output), status_not_running) << output;
  EXPECT_FALSE(port_accepts(port));
}

TEST_F(init_script_fixture, status_and_stop_when_never_started) {
  std::string output;
  EXPECT_EQ(run("status", &output), status_not_running) << output;
  EXPECT_EQ(run("stop", &output), 0) << output;
  EXPECT_FALSE(port_accepts(port));
}

TEST_F(init_script_fixture, baby_sits_the_daemon_until_stopped) {
  std::string output;
  ASSERT_EQ(run("start", &output), 0) << output << diagnostics();
  pid_t loop = read_pid(loop_pid_file());
  pid_t first = read_pid(daemon_pid_file());
  ASSERT_GT(loop, 0) << diagnostics();
  ASSERT_GT(first, 0) << diagnostics();
  ASSERT_TRUE(eventually([&] { return port_accepts(port); })) << diagnostics();
  EXPECT_EQ(disruption(port, "request", "127.0.0.1", group_tags), "permitted");
  EXPECT_EQ(run("status", &output), status_running) << output;

  // A second start leaves the running baby-sitter and daemon alone.
  EXPECT_EQ(run("start", &output), 0) << output;
  EXPECT_EQ(read_pid(loop_pid_file()), loop);
  EXPECT_EQ(read_pid(daemon_pid_file()), first);

  // The baby-sitter replaces a daemon that dies, and the new one serves the
  // state the old one saved.
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  pid_t second = -1;
  ASSERT_TRUE(eventually([&] {
    second = read_pid(daemon_pid_file());
    return second > 0 && second != first && !process_gone(second) &&
           port_accepts(port);
  })) << diagnostics();
  EXPECT_TRUE(process_gone(first));
  EXPECT_EQ(read_pid(loop_pid_file()), loop);
  EXPECT_EQ(disruption(port, "check", "127.0.0.1", group_tags), "permitted");
  EXPECT_NE(dir.read("init.log").find("restarting"), std::string::npos)
      << diagnostics();

  // Stop ends both, waits for them, and nothing comes back.
  EXPECT_EQ(run("stop", &output), 0) << output;
  EXPECT_TRUE(process_gone(loop));
  EXPECT_TRUE(process_gone(second));
  EXPECT_FALSE(port_accepts(port));
  EXPECT_EQ(run("status", &output), status_not_running) << output;
  std::this_thread::sleep_for(1500ms); // longer than the restart delay
  EXPECT_FALSE(port_accepts(port)) << diagnostics();
}

TEST_F(init_script_fixture, status_reports_a_baby_sitter_killed_outright) {
  std::string output;
  ASSERT_EQ(run("start", &output), 0) << output << diagnostics();
  pid_t loop = read_pid(loop_pid_file());
  pid_t daemon = read_pid(daemon_pid_file());
  ASSERT_TRUE(eventually([&] { return port_accepts(port); })) << diagnostics();
  ASSERT_EQ(::kill(loop, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] { return process_gone(loop); }));
  // The daemon lives on unwatched: neither running nor cleanly stopped.
  EXPECT_EQ(run("status", &output), 1) << output;
  // A new start replaces the orphaned daemon instead of fighting it for the
  // port.
  ASSERT_EQ(run("start", &output), 0) << output << diagnostics();
  EXPECT_TRUE(process_gone(daemon));
  ASSERT_TRUE(eventually([&] { return port_accepts(port); })) << diagnostics();
  EXPECT_EQ(run("status", &output), status_running) << output;
}
