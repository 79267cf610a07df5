// A host's existing flags file keeps working: the service runs with every
// flag of the original set to a value other than its default, -version
// answers, and the logs are written as the original writes them.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/support/http_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"

using namespace dm;
using namespace dm::test;

namespace {

// The flag names of the original's -h (tests/data/flags).
std::vector<std::string> original_flag_names() {
  std::ifstream in(DM_SOURCE_DIR "/tests/data/flags/original-help.txt");
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("  -", 0) == 0)
      names.push_back(line.substr(3, line.find(' ', 3) - 3));
  return names;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Waits (generously) until `file` holds `needle`.
bool wait_for_text(const std::string& file, const std::string& needle) {
  for (int i = 0; i < 300; ++i) {
    if (read_file(file).find(needle) != std::string::npos)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

} // namespace

TEST(original_flags, the_service_runs_with_every_flag_of_the_original_changed) {
  temp_dir dir;
  test_pki pki;
  std::map<std::string, std::string> values = {
      {"CAfile", pki.ca_cert},
      {"certFile", pki.server_cert},
      {"keyFile", pki.server_key},
      {"identityCAfile", pki.foreign_ca_cert},
      {"generateMissingWebcert", "true"},
      {"idleMarkTimeout", "1s"},
      {"initialLogDebugLevel", "1"},
      {"logAtStartup", "false"},
      {"logFileMaxSize", "1MiB"},
      {"logQuota", "5M"},
      {"logSubseconds", "true"},
      {"logbufLines", "200"},
      {"maximumPermittedDuration", "2h"},
      {"srpcClientDoNotUseMethodPowers", "true"},
      {"srpcDefaultConnectTimeout", "3s"},
      {"srpcDefaultKeepAlivePeriod", "1m"},
      {"srpcDefaultTlsHandshakeTimeout", "30s"},
      {"srpcProxy", "socks5://127.0.0.1:1"},
      {"srpcTrustVmOwners", "false"},
      {"srpcTrustedGroups", "fleet-ops,oncall"},
      {"srpcTrustedUsers", "alice,bob"},
      {"srpcUnixSocketPath", dir.file("srpc.sock")},
  };
  // server_process itself sets these (a free port, a fresh state and log
  // directory, logs to stderr); -version is an action, tested below.
  for (const char* set_anyway :
       {"portNum", "stateDir", "logDir", "alsoLogToStderr", "version"})
    values.emplace(set_anyway, "");
  std::vector<std::string> args;
  for (const auto& name : original_flag_names()) {
    auto it = values.find(name);
    ASSERT_NE(it, values.end()) << "no value chosen for -" << name;
    if (!it->second.empty())
      args.push_back("-" + name + "=" + it->second);
  }
  ASSERT_EQ(args.size(), 22u);
  server_process server(DM_SERVER_BINARY, dir.file("state"), args);
  ASSERT_TRUE(server.start()) << server.log_text();
  EXPECT_EQ(disruption(server.port(), "request", "127.0.90.1"), "permitted");
  EXPECT_EQ(disruption(server.port(), "check", "127.0.90.1"), "permitted");
  auto log = server.log_text();
  EXPECT_NE(log.find("flags with no effect here (they steer SRPC clients or "
                     "SmallStack): -srpcDefaultConnectTimeout, -srpcProxy, "
                     "-srpcClientDoNotUseMethodPowers, -srpcTrustVmOwners"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("Startup:"), std::string::npos) << log; // -logAtStartup
  // -logSubseconds: microseconds after the seconds.
  EXPECT_TRUE(std::regex_search(
      log, std::regex(R"(\n?\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6} state: )")))
      << log;
  // -idleMarkTimeout: a quiet second gives a MARK line in the file only.
  EXPECT_TRUE(wait_for_text(dir.file("state") + ".logs/disruption-manager.log",
                            " MARK\n"));
  EXPECT_EQ(server.log_text().find("MARK"), std::string::npos);
  EXPECT_EQ(server.stop(), 0);
}

TEST(original_flags, logs_are_stamped_to_the_second_and_begin_with_startup) {
  temp_dir dir;
  server_process server(DM_SERVER_BINARY, dir.file("state"));
  ASSERT_TRUE(server.start()) << server.log_text();
  auto log = server.log_text();
  EXPECT_TRUE(std::regex_search(
      log, std::regex(R"(^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d Startup: )"
                      R"(disruption-manager )")))
      << log;
  EXPECT_FALSE(std::regex_search(log, std::regex(R"(:\d\d\.\d{6} )"))) << log;
}

TEST(original_flags, version_prints_the_version_and_exits_zero) {
  std::string output;
  EXPECT_EQ(run_program({DM_SERVER_BINARY, "-version"}, output), 0);
  EXPECT_EQ(output, std::string("disruption-manager ") + DM_VERSION + "\n");
  EXPECT_EQ(run_program({DM_SERVER_BINARY, "-logSubseconds=true",
                         "-srpcTrustedUsers=alice", "-version"},
                        output),
            0);
  EXPECT_EQ(run_program({DM_SERVER_BINARY, "-noSuchFlag"}, output), 2);
  EXPECT_NE(output.find("flag provided but not defined: -noSuchFlag"),
            std::string::npos);
}
