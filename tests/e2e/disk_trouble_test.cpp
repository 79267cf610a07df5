// Disk trouble: when the state can no longer be written (here: a soft file
// size limit set on the running server, which fails its writes as a full
// disk would), new permits are refused with an error, checks of saved
// machines still answer, and all recovers when writing works again. A
// damaged state file at start is reported, never taken for an empty state.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <thread>

#include "storage/file_store.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dm::test;

namespace {

void set_file_size_limit(pid_t pid, const std::string& limit) {
  std::string out;
  ASSERT_EQ(run_program({"/usr/bin/prlimit", "--pid", std::to_string(pid),
                         "--fsize=" + limit + ":"},
                        out),
            0)
      << out;
}

long file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : -1;
}

// The value of an unlabelled sample in a /metrics page, or -1.
double metric(const std::string& page, const std::string& name) {
  auto at = page.find("\ndisruption_manager_" + name + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(page.substr(page.find(' ', at + 1) + 1));
}

const char* tags =
    R"({"DisruptionManagerGroupIdentifier":"Disk","DisruptionManagerGroupMaximumDisrupting":"5"})";

} // namespace

TEST(disk_trouble, full_disk_refuses_grants_keeps_checks_and_recovers) {
  temp_dir dir;
  server_process server(DM_SERVER_BINARY, dir.file("state"));
  ASSERT_TRUE(server.start()) << server.log_text();
  int port = server.port();
  EXPECT_EQ(disruption(port, "request", "127.0.80.1", tags), "permitted");
  auto journal = dir.file("state") + "/state.journal";
  ASSERT_GT(file_size(journal), 0);
  // No byte more may be written.
  set_file_size_limit(server.pid(), std::to_string(file_size(journal)));
  auto refused = disruption(port, "request", "127.0.80.2", tags);
  EXPECT_EQ(refused.substr(0, 8), "HTTP 503") << refused;
  EXPECT_NE(refused.find("could not be saved"), std::string::npos) << refused;
  // The saved machine is still answered.
  EXPECT_EQ(disruption(port, "check", "127.0.80.1", tags), "permitted");
  EXPECT_EQ(disruption(port, "check", "127.0.80.3", tags), "denied");
  EXPECT_EQ(http_get(port, "/healthz").status, 503);
  // Writing works again: the refused machine's retry is granted.
  set_file_size_limit(server.pid(), "unlimited");
  EXPECT_EQ(disruption(port, "request", "127.0.80.2", tags), "permitted");
  EXPECT_EQ(http_get(port, "/healthz").status, 200);
  // And it was saved: it survives a crash.
  server.kill_hard();
  ASSERT_TRUE(server.start()) << server.log_text();
  EXPECT_EQ(disruption(port, "check", "127.0.80.2", tags), "permitted");
  EXPECT_EQ(disruption(port, "check", "127.0.80.1", tags), "permitted");
}

TEST(disk_trouble, corrupt_state_file_stops_the_start_with_a_reason) {
  temp_dir dir;
  {
    server_process server(DM_SERVER_BINARY, dir.file("state"));
    ASSERT_TRUE(server.start()) << server.log_text();
    EXPECT_EQ(disruption(server.port(), "request", "127.0.81.1", tags),
              "permitted");
    EXPECT_EQ(disruption(server.port(), "request", "127.0.81.2", tags),
              "permitted");
    server.stop();
  }
  auto journal = dir.file("state") + "/state.journal";
  std::string text;
  {
    std::ifstream in(journal);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  ASSERT_GT(text.size(), 20u);
  text[15] = text[15] == 'x' ? 'y' : 'x'; // damage the first line
  std::ofstream(journal, std::ios::trunc) << text;
  server_process broken(DM_SERVER_BINARY, dir.file("state"));
  EXPECT_FALSE(broken.start(std::chrono::seconds(5)));
  auto log = broken.log_text();
  EXPECT_NE(log.find("state.journal: line 1"), std::string::npos) << log;
  EXPECT_NE(log.find("corrupt"), std::string::npos) << log;
}

// The disk stays full while many machines call: every batch carries the
// unsaved machines again, but the server keeps one pending change per
// machine, so a little room (about two lines per machine) is enough to
// save them all and be healthy again.
TEST(disk_trouble, full_disk_backlog_stays_one_change_per_machine) {
  temp_dir dir;
  server_process server(DM_SERVER_BINARY, dir.file("state"));
  ASSERT_TRUE(server.start()) << server.log_text();
  int port = server.port();
  const char* many =
      R"({"DisruptionManagerGroupIdentifier":"Full","DisruptionManagerGroupMaximumDisrupting":"1000"})";
  EXPECT_EQ(disruption(port, "request", "127.0.82.1", many), "permitted");
  auto journal = dir.file("state") + "/state.journal";
  const long full = file_size(journal);
  ASSERT_GT(full, 0);
  set_file_size_limit(server.pid(), std::to_string(full));
  constexpr int machines = 150;
  for (int i = 2; i < 2 + machines; ++i) {
    auto answer =
        disruption(port, "request", "127.0.82." + std::to_string(i), many);
    EXPECT_EQ(answer.substr(0, 8), "HTTP 503") << answer;
  }
  EXPECT_EQ(http_get(port, "/healthz").status, 503);
  // One line is under 100 bytes; room for two per machine.
  set_file_size_limit(server.pid(), std::to_string(full + machines * 200));
  // The groups retry their unsaved machines a second after a failure.
  bool healthy = false;
  for (int i = 0; i < 60 && !healthy; ++i) {
    healthy = http_get(port, "/healthz").status == 200;
    if (!healthy)
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_TRUE(healthy) << server.log_text();
  EXPECT_LE(file_size(journal), full + machines * 200);
  // Each machine's change counted once, when written; not once per retry.
  auto written =
      metric(http_get(port, "/metrics").body, "storage_changes_total");
  EXPECT_GE(written, machines + 1);
  EXPECT_LE(written, 2 * machines + 1);
  EXPECT_EQ(metric(http_get(port, "/metrics").body, "storage_pending_changes"),
            0);
  server.kill_hard();
  ASSERT_TRUE(server.start()) << server.log_text();
  EXPECT_EQ(disruption(server.port(), "check", "127.0.82.2", many),
            "permitted");
  EXPECT_EQ(disruption(server.port(), "check", "127.0.82.151", many),
            "permitted");
}

// A compaction that cannot be written (a directory in the way of the new
// snapshot) is not tried at every batch: it backs off, and /healthz and
// /metrics say so while every change is still saved in the journal.
TEST(disk_trouble, failed_compaction_backs_off_and_says_so) {
  temp_dir dir;
  const std::string state = dir.file("state");
  ASSERT_EQ(::mkdir(state.c_str(), 0755), 0);
  {
    // A journal past the 4 MiB at which compaction starts.
    auto now = std::chrono::system_clock::now().time_since_epoch();
    std::string text;
    const std::string pad(200, 'x');
    for (std::uint64_t i = 1; text.size() < (4u << 20) + 4096; ++i)
      dm::append_state_line(
          text, dm::state_change::host_update(
                    "Big", "machine-" + std::to_string(i) + "-" + pad,
                    dm::host_entry{
                        dm::holding{false,
                                    dm::timestamp{std::chrono::duration_cast<
                                        std::chrono::nanoseconds>(now)},
                                    i},
                        std::nullopt}));
    std::ofstream(state + "/state.journal", std::ios::binary) << text;
  }
  ASSERT_EQ(::mkdir((state + "/state.snapshot.tmp").c_str(), 0755), 0);
  server_process server(DM_SERVER_BINARY, state);
  ASSERT_TRUE(server.start()) << server.log_text();
  int port = server.port();
  const char* small =
      R"({"DisruptionManagerGroupIdentifier":"Small","DisruptionManagerGroupMaximumDisrupting":"100"})";
  for (int i = 1; i <= 20; ++i)
    EXPECT_EQ(
        disruption(port, "request", "127.0.83." + std::to_string(i), small),
        "permitted");
  auto health = http_get(port, "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_NE(health.body.find("degraded: state compaction failing"),
            std::string::npos)
      << health.body;
  auto page = http_get(port, "/metrics").body;
  EXPECT_EQ(metric(page, "storage_compaction_healthy"), 0) << page;
  EXPECT_GE(metric(page, "storage_compaction_backoff_seconds"), 1) << page;
  // Twenty batches, but the next try waits a second, then two, ...: far
  // fewer failures than batches, whatever the machine's speed.
  auto failures = metric(page, "storage_compaction_failures_total");
  EXPECT_GE(failures, 1) << page;
  EXPECT_LE(failures, 10) << page;
  EXPECT_LE(count_of(server.log_text(), "state compaction failed"), 10u);
  // Room again: a later batch compacts and all is well.
  ASSERT_EQ(::rmdir((state + "/state.snapshot.tmp").c_str()), 0);
  bool compacted = false;
  for (int i = 0; i < 60 && !compacted; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    disruption(port, "request", "127.0.83.1", small);
    compacted = http_get(port, "/healthz").body == "ok\n";
  }
  EXPECT_TRUE(compacted) << server.log_text();
  page = http_get(port, "/metrics").body;
  EXPECT_EQ(metric(page, "storage_compaction_healthy"), 1) << page;
  struct stat info {};
  ASSERT_EQ(::stat((state + "/state.journal").c_str(), &info), 0);
  EXPECT_LT(info.st_size, 1 << 20);
}

// A state file that is not a regular file stops the start at once with the
// file named: a link to /dev/zero is not read until memory runs out, and a
// FIFO nobody writes to does not hang the start.
TEST(disk_trouble, state_file_that_is_not_a_regular_file_stops_the_start) {
  for (const char* kind : {"device", "fifo"}) {
    temp_dir dir;
    const std::string state = dir.file("state");
    ASSERT_EQ(::mkdir(state.c_str(), 0755), 0);
    const std::string journal = state + "/state.journal";
    if (std::string(kind) == "device")
      ASSERT_EQ(::symlink("/dev/zero", journal.c_str()), 0);
    else
      ASSERT_EQ(::mkfifo(journal.c_str(), 0644), 0);
    server_process server(DM_SERVER_BINARY, state);
    EXPECT_FALSE(server.start(std::chrono::seconds(10))) << kind;
    auto log = server.log_text();
    EXPECT_NE(log.find("cannot read " + journal + ": not a regular file"),
              std::string::npos)
        << log;
  }
}
