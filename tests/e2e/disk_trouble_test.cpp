// Disk trouble: when the state can no longer be written (here: a soft file
// size limit set on the running server, which fails its writes as a full
// disk would), new permits are refused with an error, checks of saved
// machines still answer, and all recovers when writing works again. A
// damaged state file at start is reported, never taken for an empty state.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <sys/stat.h>

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
