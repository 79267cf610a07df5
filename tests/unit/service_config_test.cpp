// The service's flags: every flag of the original, with its default, and
// the checks that make main() refuse to start.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "config/service_config.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dm;

namespace {

struct flag_line {
  std::string type; // "" for booleans
  std::string help; // with " (default ...)" if shown
};

// Reads Go's flag.PrintDefaults layout: "  -name type" then "    \thelp".
std::map<std::string, flag_line> read_usage(const std::string& text) {
  std::map<std::string, flag_line> flags;
  std::istringstream in(text);
  std::string line;
  std::string current;
  while (std::getline(in, line)) {
    if (line.rfind("  -", 0) == 0) {
      auto rest = line.substr(3);
      auto space = rest.find(' ');
      current = rest.substr(0, space);
      flags[current].type =
          space == std::string::npos ? "" : rest.substr(space + 1);
    } else if (line.rfind("    \t", 0) == 0 && !current.empty()) {
      flags[current].help = line.substr(5);
    }
  }
  return flags;
}

std::string original_help() {
  std::ifstream in(DM_SOURCE_DIR "/tests/data/flags/original-help.txt");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string default_of(const std::string& help) {
  auto at = help.rfind(" (default ");
  return at == std::string::npos ? "" : help.substr(at);
}

struct parse_result {
  std::optional<int> status;
  std::string err;
  service_config config;
};

parse_result parse(std::vector<std::string> args,
                   const std::string& config_dir = "/nonexistent") {
  args.insert(args.begin(), "disruption-manager");
  std::vector<const char*> argv;
  for (auto& a : args)
    argv.push_back(a.c_str());
  parse_result result;
  std::ostringstream err;
  result.status =
      parse_service_config(static_cast<int>(argv.size()), argv.data(),
                           config_dir, 28374, result.config, err);
  result.err = err.str();
  return result;
}

// A value other than the default for each flag of the original.
const std::map<std::string, std::string> non_defaults = {
    {"CAfile", "/tmp/ca.pem"},
    {"alsoLogToStderr", "true"},
    {"certFile", "/tmp/cert.pem"},
    {"generateMissingWebcert", "true"},
    {"identityCAfile", "/tmp/identity-ca.pem"},
    {"idleMarkTimeout", "1h"},
    {"initialLogDebugLevel", "2"},
    {"keyFile", "/tmp/key.pem"},
    {"logAtStartup", "false"},
    {"logDir", "/tmp/logs"},
    {"logFileMaxSize", "1MiB"},
    {"logQuota", "50M"},
    {"logSubseconds", "true"},
    {"logbufLines", "500"},
    {"maximumPermittedDuration", "2h"},
    {"portNum", "7000"},
    {"srpcClientDoNotUseMethodPowers", "true"},
    {"srpcDefaultConnectTimeout", "20s"},
    {"srpcDefaultKeepAlivePeriod", "1m"},
    {"srpcDefaultTlsHandshakeTimeout", "30s"},
    {"srpcProxy", "socks5://proxy:1080"},
    {"srpcTrustVmOwners", "false"},
    {"srpcTrustedGroups", "fleet-ops,oncall"},
    {"srpcTrustedUsers", "alice,bob"},
    {"srpcUnixSocketPath", "/tmp/dm.sock"},
    {"stateDir", "/tmp/state"},
};

} // namespace

TEST(service_config,
     every_flag_of_the_original_is_listed_with_its_type_and_default) {
  auto original = read_usage(original_help());
  ASSERT_EQ(original.size(), 27u);
  auto help = parse({"-h"});
  ASSERT_EQ(help.status, 0);
  auto ours = read_usage(help.err);
  for (const auto& [name, line] : original) {
    SCOPED_TRACE(name);
    auto it = ours.find(name);
    ASSERT_NE(it, ours.end());
    EXPECT_EQ(it->second.type, line.type);
    if (name == "srpcUnixSocketPath") // the process id
      EXPECT_EQ(default_of(it->second.help), " (default \"@SRPC.28374\")");
    else
      EXPECT_EQ(default_of(it->second.help), default_of(line.help));
    // Our help begins with the original's words.
    auto words =
        line.help.substr(0, line.help.size() - default_of(line.help).size());
    EXPECT_EQ(it->second.help.rfind(words, 0), 0u) << it->second.help;
  }
}

TEST(service_config,
     every_flag_of_the_original_takes_a_value_other_than_its_default) {
  auto original = read_usage(original_help());
  std::vector<std::string> args;
  for (const auto& [name, line] : original) {
    if (name == "version")
      continue; // an action, tested below
    auto it = non_defaults.find(name);
    ASSERT_NE(it, non_defaults.end()) << "no test value for -" << name;
    args.push_back("-" + name + "=" + it->second);
  }
  auto result = parse(args);
  EXPECT_FALSE(result.status) << result.err;
  const auto& c = result.config;
  EXPECT_EQ(c.port, 7000u);
  EXPECT_EQ(c.identity_ca_file, "/tmp/identity-ca.pem");
  EXPECT_EQ(c.idle_mark_timeout, std::chrono::hours(1));
  EXPECT_EQ(c.initial_log_debug_level, 2);
  EXPECT_FALSE(c.log_at_startup);
  EXPECT_TRUE(c.log_subseconds);
  EXPECT_EQ(c.log_file_max_bytes, 1u << 20);
  EXPECT_EQ(c.log_quota_bytes, 50u << 20);
  EXPECT_EQ(c.logbuf_lines, 500u);
  EXPECT_EQ(c.tls_handshake_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c.keep_alive_period, std::chrono::minutes(1));
  EXPECT_EQ(c.unix_socket_path, "/tmp/dm.sock");
  EXPECT_EQ(c.trusted_users, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(c.trusted_groups,
            (std::vector<std::string>{"fleet-ops", "oncall"}));
  EXPECT_EQ(c.inert_flags_given,
            (std::vector<std::string>{"srpcDefaultConnectTimeout", "srpcProxy",
                                      "srpcClientDoNotUseMethodPowers",
                                      "srpcTrustVmOwners"}));
}

TEST(service_config, defaults_are_the_originals) {
  auto result = parse({});
  ASSERT_FALSE(result.status) << result.err;
  const auto& c = result.config;
  EXPECT_EQ(c.port, 6979u);
  EXPECT_EQ(c.log_quota_bytes, 100u << 20);
  EXPECT_EQ(c.log_file_max_bytes, 10u << 20);
  EXPECT_EQ(c.unix_socket_path, "@SRPC.28374");
  EXPECT_EQ(c.identity_ca_file, "/etc/ssl/IdentityCA.pem");
  EXPECT_TRUE(c.log_at_startup);
  EXPECT_FALSE(c.log_subseconds);
  EXPECT_EQ(c.initial_log_debug_level, -1);
  EXPECT_TRUE(c.trusted_users.empty());
  EXPECT_TRUE(c.inert_flags_given.empty());
}

TEST(service_config, version_prints_the_version_and_exits_zero) {
  auto result = parse({"-version"});
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.err, std::string("disruption-manager ") + DM_VERSION + "\n");
  // As Go's BoolFunc: at once, whatever follows and whatever the value.
  EXPECT_EQ(parse({"-version=false", "-noSuchFlag"}).status, 0);
  dm::test::temp_dir dir;
  std::ofstream(dir.path() + "/flags.default") << "version=true\n";
  auto from_file = parse({"-noSuchFlag"}, dir.path());
  EXPECT_EQ(from_file.status, 0);
  EXPECT_NE(from_file.err.find(DM_VERSION), std::string::npos);
}

TEST(service_config, help_exits_zero_and_unknown_flags_exit_two) {
  EXPECT_EQ(parse({"-h"}).status, 0);
  auto unknown = parse({"-noSuchFlag=1"});
  EXPECT_EQ(unknown.status, 2);
  EXPECT_EQ(
      unknown.err.rfind("flag provided but not defined: -noSuchFlag\n", 0), 0u);
  auto extra = parse({"stray"});
  EXPECT_EQ(extra.status, 2);
  EXPECT_NE(extra.err.find("unexpected argument: stray"), std::string::npos);
}

TEST(service_config, the_flags_files_come_first_and_the_command_line_wins) {
  dm::test::temp_dir dir;
  std::ofstream(dir.path() + "/flags.default")
      << "; the original's file\nlogSubseconds=true\nportNum=7001\n"
         "srpcTrustedUsers=alice\n";
  std::ofstream(dir.path() + "/flags.extra") << "portNum = 7002\n";
  auto result = parse({"-portNum=7003"}, dir.path());
  ASSERT_FALSE(result.status) << result.err;
  EXPECT_TRUE(result.config.log_subseconds);
  EXPECT_EQ(result.config.port, 7003u);
  EXPECT_EQ(result.config.trusted_users, std::vector<std::string>{"alice"});
  std::ofstream(dir.path() + "/flags.extra") << "noSuchFlag=1\n";
  auto bad = parse({}, dir.path());
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("flags.extra:1: flag provided but not defined"),
            std::string::npos);
}

TEST(service_config, values_the_service_cannot_use_are_refused_with_a_reason) {
  struct example {
    std::string arg;
    std::string reason;
  } examples[] = {
      {"-portNum=65536", "-portNum: out of range"},
      {"-maximumPermittedDuration=0s", "-maximumPermittedDuration"},
      {"-idleTimeout=500ms", "-idleTimeout: must be at least 1s"},
      {"-requestTimeout=0s", "-requestTimeout: must be at least 1s"},
      {"-srpcDefaultTlsHandshakeTimeout=10ms",
       "-srpcDefaultTlsHandshakeTimeout: must be at least 1s"},
      {"-srpcDefaultKeepAlivePeriod=0s", "-srpcDefaultKeepAlivePeriod"},
      {"-idleMarkTimeout=-1s", "-idleMarkTimeout"},
      {"-maxConnections=0", "-maxConnections"},
      {"-maxRequestBytes=1000", "-maxRequestBytes"},
      {"-ioThreads=0", "-ioThreads"},
      {"-scheduler=fifo", "-scheduler"},
      {"-logQuota=10X", "for flag -logQuota"},
      {"-logFileMaxSize=-1", "for flag -logFileMaxSize"},
      {"-initialLogDebugLevel=x", "for flag -initialLogDebugLevel"},
      {"-srpcUnixSocketPath=" + std::string(108, 'x'), "-srpcUnixSocketPath"},
  };
  for (const auto& e : examples) {
    auto result = parse({e.arg});
    EXPECT_EQ(result.status, 2) << e.arg;
    EXPECT_NE(result.err.find(e.reason), std::string::npos)
        << e.arg << ": " << result.err;
  }
}

TEST(service_config, lists_replace_and_an_empty_value_empties_them) {
  auto result =
      parse({"-srpcTrustedUsers=alice,bob", "-srpcTrustedUsers=carol"});
  ASSERT_FALSE(result.status);
  EXPECT_EQ(result.config.trusted_users, std::vector<std::string>{"carol"});
  result = parse({"-srpcTrustedGroups=a", "-srpcTrustedGroups="});
  ASSERT_FALSE(result.status);
  EXPECT_TRUE(result.config.trusted_groups.empty());
}
