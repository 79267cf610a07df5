// Hardening findings tried against the real server as a hostile client
// would, without a certificate, on loopback: each test is named after the
// finding it covers.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/http_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dm::test;
using namespace std::chrono_literals;

namespace {

struct hardening_fixture : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<server_process> server;
  void start(std::vector<std::string> extra = {}) {
    server = std::make_unique<server_process>(DM_SERVER_BINARY,
                                              dir.file("state"), extra);
    ASSERT_TRUE(server->start()) << server->log_text();
  }
  int port() const { return server->port(); }
  std::string log_file_text() const {
    std::ifstream in(dir.file("state") + ".logs/disruption-manager.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

// Whether some line of `text` begins with `prefix`.
bool has_line_starting(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, prefix.size(), prefix) == 0)
      return true;
  return false;
}

} // namespace

// Finding: a newline (or another control character) in a group or host
// name forged lines in the log files and /logs, and /logs could be sniffed
// as markup.
TEST_F(hardening_fixture, log_injection_is_escaped_in_files_and_logs_page) {
  start();
  const std::string forged =
      "1999/01/01 00:00:00.000000 10.9.9.9: denied->permitted";
  nlohmann::json tags = {
      {"DisruptionManagerGroupIdentifier", "g\n" + forged + "\r\x1b[2J\t"}};
  ASSERT_EQ(disruption(port(), "request", "127.0.0.1", tags.dump()),
            "permitted");
  auto logs = http_get(port(), "/logs");
  ASSERT_EQ(logs.status, 200);
  EXPECT_NE(logs.headers.find("X-Content-Type-Options: nosniff"),
            std::string::npos)
      << logs.headers;
  EXPECT_FALSE(has_line_starting(logs.body, "1999/")) << logs.body;
  EXPECT_NE(logs.body.find("g\\n1999/01/01"), std::string::npos) << logs.body;
  EXPECT_NE(logs.body.find("\\r\\x1b[2J\\t"), std::string::npos) << logs.body;
  EXPECT_EQ(logs.body.find('\x1b'), std::string::npos);
  // The files get the same line (info lines are flushed within a second).
  std::string file;
  for (int i = 0; i < 100; ++i) {
    file = log_file_text();
    if (file.find("g\\n1999") != std::string::npos)
      break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(file.find("g\\n1999/01/01"), std::string::npos) << file;
  EXPECT_FALSE(has_line_starting(file, "1999/")) << file;
  EXPECT_FALSE(has_line_starting(server->log_text(), "1999/"));
}
