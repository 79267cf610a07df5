// Tests of the client program's logic that need no server: URL parsing, the
// HTTP answer parser, record files, exit codes, flags and flag files.
#include "client/disruption_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <vector>

#include "client/http_post.hpp"
#include "client/server_url.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace dm {
namespace {

std::optional<server_url> parse(const std::string& text) {
  std::string error;
  auto url = parse_server_url(text, error);
  EXPECT_EQ(url.has_value(), error.empty()) << text << ": " << error;
  return url;
}

TEST(server_url, rest_urls_with_and_without_port_and_path) {
  auto url = parse("http://dm.example:6979/api/v1/request");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, url_scheme::http);
  EXPECT_EQ(url->host, "dm.example");
  EXPECT_EQ(url->port, 6979);
  EXPECT_EQ(url->path, "/api/v1/request");
  url = parse("HTTPS://dm.example");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, url_scheme::https);
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->path, "/api/v1/request");
  url = parse("http://dm.example:8080/");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->path, "/api/v1/request");
  url = parse("http://dm.example/other/path?x=1#frag");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->path, "/other/path?x=1");
}

TEST(server_url, srpc_urls_choose_the_coder) {
  auto url = parse("srpc://dm.example");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, url_scheme::srpc);
  EXPECT_EQ(url->port, 6979);
  EXPECT_TRUE(is_srpc(url->scheme));
  url = parse("srpc+json://10.0.0.1:7000/");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, url_scheme::srpc_json);
  EXPECT_EQ(url->host, "10.0.0.1");
  EXPECT_EQ(url->port, 7000);
  EXPECT_EQ(host_and_port(*url), "10.0.0.1:7000");
}

TEST(server_url, ipv6_literals) {
  auto url = parse("srpc://[::1]:6979");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 6979);
  EXPECT_EQ(host_and_port(*url), "[::1]:6979");
  url = parse("http://[fe80::1]/api/v1/request");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "fe80::1");
  EXPECT_EQ(url->port, 80);
}

TEST(server_url, bad_urls_say_why) {
  for (const auto& [text, reason] :
       std::vector<std::pair<std::string, std::string>>{
           {"dm.example:6979", "missing scheme"},
           {"ftp://dm.example", "unsupported scheme"},
           {"http://", "missing host"},
           {"http://:80/", "missing host"},
           {"http://dm.example:/", "empty port"},
           {"http://dm.example:0", "bad port"},
           {"http://dm.example:65536", "bad port"},
           {"http://dm.example:http", "bad port"},
           {"http://user@dm.example", "user information"},
           {"srpc://dm.example:6979/_goSRPC_/", "takes no path"},
           {"http://[::1:80", "unterminated"},
           {"http://dm.example/a b", "space"}}) {
    std::string error;
    EXPECT_FALSE(parse_server_url(text, error)) << text;
    EXPECT_NE(error.find(reason), std::string::npos) << text << ": " << error;
  }
}

http_parse_status parse_answer(const std::string& data, bool eof,
                               http_answer& answer, std::string& error) {
  return parse_http_answer(data, eof, answer, error, 1000);
}

TEST(http_answer, content_length_body) {
  std::string body = "{\"Response\": \"permitted\"}\n";
  std::string data = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "content-length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body;
  http_answer answer;
  std::string error;
  // Every prefix is incomplete, the whole is done.
  for (std::size_t n = 0; n < data.size(); ++n)
    ASSERT_EQ(parse_answer(data.substr(0, n), false, answer, error),
              http_parse_status::need_more)
        << n;
  ASSERT_EQ(parse_answer(data, false, answer, error), http_parse_status::done)
      << error;
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.reason, "OK");
  EXPECT_EQ(answer.body, body);
  // Cut short by the peer.
  EXPECT_EQ(parse_answer(data.substr(0, data.size() - 3), true, answer, error),
            http_parse_status::error);
  EXPECT_NE(error.find("connection closed"), std::string::npos);
}

TEST(http_answer, chunked_body_after_an_interim_answer) {
  std::string data = "HTTP/1.1 100 Continue\r\n\r\n"
                     "HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n"
                     "\r\n5;ext=1\r\nhost \r\nE\r\nnot permitted\n\r\n0\r\n"
                     "X-Trailer: 1\r\n\r\n";
  http_answer answer;
  std::string error;
  EXPECT_EQ(parse_answer(data.substr(0, data.size() - 2), false, answer, error),
            http_parse_status::need_more);
  ASSERT_EQ(parse_answer(data, false, answer, error), http_parse_status::done)
      << error;
  EXPECT_EQ(answer.status, 403);
  EXPECT_EQ(answer.reason, "Forbidden");
  EXPECT_EQ(answer.body, "host not permitted\n");
}

TEST(http_answer, body_until_close_and_bare_newlines) {
  std::string data = "HTTP/1.0 400\nServer: x\n\nbad body";
  http_answer answer;
  std::string error;
  EXPECT_EQ(parse_answer(data, false, answer, error),
            http_parse_status::need_more);
  ASSERT_EQ(parse_answer(data, true, answer, error), http_parse_status::done)
      << error;
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(answer.reason, "");
  EXPECT_EQ(answer.body, "bad body");
}

TEST(http_answer, garbage_and_oversize_are_errors) {
  http_answer answer;
  std::string error;
  for (const std::string data :
       {"SSH-2.0-OpenSSH_9.2\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n"}) {
    EXPECT_EQ(parse_answer(data, false, answer, error),
              http_parse_status::error)
        << data;
    EXPECT_FALSE(error.empty());
    error.clear();
  }
  EXPECT_EQ(parse_answer("", true, answer, error), http_parse_status::error);
  EXPECT_EQ(error, "connection closed without an answer");
}

TEST(disruption_client, states_map_to_subd_exit_codes) {
  EXPECT_EQ(to_int(exit_for_state(disruption_state::permitted)), 0);
  EXPECT_EQ(to_int(exit_for_state(disruption_state::anytime)), 0);
  EXPECT_EQ(to_int(exit_for_state(disruption_state::requested)), 1);
  EXPECT_EQ(to_int(exit_for_state(disruption_state::denied)), 2);
}

TEST(disruption_client, record_file_or_this_host) {
  test::temp_dir dir;
  std::string error;
  auto self = load_machine_record("", error);
  ASSERT_TRUE(self) << error;
  EXPECT_FALSE(self->hostname.empty());
  EXPECT_EQ(self->hostname, local_fqdn());
  EXPECT_TRUE(self->tags.empty());

  dir.write("full.json",
            R"({"Hostname": "m1.example", "RequiredImage": "kubelet/2026",
                "Tags": {"DisruptionManagerGroupIdentifier": "G"},
                "AwsMetadata": {"Region": "eu-west-1"}, "NewField": true})");
  auto full = load_machine_record(dir.file("full.json"), error);
  ASSERT_TRUE(full) << error;
  EXPECT_EQ(full->hostname, "m1.example");
  EXPECT_EQ(full->required_image, "kubelet/2026");
  EXPECT_EQ(full->tags.at("DisruptionManagerGroupIdentifier"), "G");
  ASSERT_TRUE(full->aws);
  EXPECT_EQ(full->aws->region, "eu-west-1");

  dir.write("tags-only.json", R"({"Tags": {"A": "b"}})");
  auto tags_only = load_machine_record(dir.file("tags-only.json"), error);
  ASSERT_TRUE(tags_only) << error;
  EXPECT_EQ(tags_only->hostname, local_fqdn());
}

TEST(disruption_client, bad_record_files_name_the_file) {
  test::temp_dir dir;
  dir.write("empty.json", "");
  dir.write("truncated.json", R"({"Hostname": "m1")");
  dir.write("array.json", "[]");
  dir.write("wrong.json", R"({"Hostname": 5})");
  for (const auto& name : {"missing.json", "empty.json", "truncated.json",
                           "array.json", "wrong.json"}) {
    std::string error;
    EXPECT_FALSE(load_machine_record(dir.file(name), error)) << name;
    EXPECT_NE(error.find(dir.file(name)), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
  std::string error;
  EXPECT_FALSE(load_machine_record(dir.path(), error));
  EXPECT_NE(error.find("Is a directory"), std::string::npos) << error;
}

TEST(disruption_client, configuration_errors_are_usage_errors) {
  machine_record machine;
  machine.hostname = "m1";
  auto expect_usage = [&](const client_options& options,
                          const std::string& mentions) {
    auto result = ask_disruption_manager(options, request_kind::check, machine);
    EXPECT_EQ(result.code, client_exit::usage) << result.error;
    EXPECT_NE(result.error.find(mentions), std::string::npos) << result.error;
  };
  client_options options;
  options.url = "gopher://x";
  expect_usage(options, "-disruptionManagerUrl");
  options = {};
  options.timeout = std::chrono::nanoseconds(0);
  expect_usage(options, "-timeout");
  options = {};
  options.source_address = "eth0";
  expect_usage(options, "-sourceAddress");
  options = {};
  options.url = "https://127.0.0.1:1";
  expect_usage(options, "-insecureSkipVerify");
  options.ca_file = "/nonexistent/ca.pem";
  expect_usage(options, "/nonexistent/ca.pem");
  options = {};
  options.url = "srpc://127.0.0.1:1";
  options.cert_file = "/nonexistent/cert.pem";
  options.insecure_skip_verify = true;
  expect_usage(options, "key");
}

TEST(disruption_client, unreachable_server_is_a_transport_error) {
  machine_record machine;
  machine.hostname = "m1";
  client_options options;
  auto port = std::to_string(test::free_port());
  for (const std::string scheme : {"http", "srpc", "srpc+json"}) {
    options.url = scheme + "://127.0.0.1:" + port;
    auto result = ask_disruption_manager(options, request_kind::check, machine);
    EXPECT_EQ(result.code, client_exit::transport) << result.error;
    EXPECT_NE(result.error.find("Connection refused"), std::string::npos)
        << result.error;
  }
}

struct program_run {
  int code;
  std::string out;
  std::string err;
};

program_run run(const std::string& config_dir, std::vector<std::string> args) {
  args.insert(args.begin(), "disruption-manager-client");
  std::vector<const char*> argv;
  for (const auto& a : args)
    argv.push_back(a.c_str());
  std::ostringstream out, err;
  int code = run_disruption_client(static_cast<int>(argv.size()), argv.data(),
                                   config_dir, out, err);
  return {code, out.str(), err.str()};
}

TEST(disruption_client, operation_and_flag_errors) {
  test::temp_dir dir;
  for (const auto& args :
       std::vector<std::vector<std::string>>{{},
                                             {"reboot"},
                                             {"Check"},
                                             {"check", "request"},
                                             {"-bogus", "check"},
                                             {"-timeout", "1", "check"},
                                             {"-timeout"}}) {
    auto result = run(dir.path(), args);
    EXPECT_EQ(result.code, 3) << result.err;
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1)
        << result.err;
    EXPECT_EQ(result.err.rfind("disruption-manager-client: ", 0), 0);
  }
  auto help = run(dir.path(), {"-help"});
  EXPECT_EQ(help.code, 3);
  EXPECT_NE(help.err.find(dir.path() + "/flags.default"), std::string::npos);
}

TEST(disruption_client, flag_files_come_before_the_command_line) {
  test::temp_dir dir;
  auto port = std::to_string(test::free_port());
  // flags.default names a record file that is not there: exit 4 shows it
  // was read.
  // Comments begin with "#" or ";", and white space around names and
  // values goes, as the original reads these files.
  dir.write("flags.default", "# subd runs us with one argument\n"
                             "  ; so does this line\n"
                             "mdbFile = " +
                                 dir.file("absent.json") +
                                 "\n"
                                 "\tdisruptionManagerUrl=http://127.0.0.1:" +
                                 port + " \r\n");
  auto result = run(dir.path(), {"check"});
  EXPECT_EQ(result.code, 4) << result.err;
  EXPECT_NE(result.err.find("absent.json"), std::string::npos);
  // flags.extra overrides flags.default; the command line overrides both.
  dir.write("record.json", R"({"Hostname": "m1"})");
  dir.write("flags.extra", "mdbFile=" + dir.file("record.json") + "\n");
  result = run(dir.path(), {"check"});
  EXPECT_EQ(result.code, 5) << result.err;
  result = run(dir.path(), {"-mdbFile=" + dir.file("other.json"), "check"});
  EXPECT_EQ(result.code, 4) << result.err;
  EXPECT_NE(result.err.find("other.json"), std::string::npos);
  // A bad line is a usage error naming file and line.
  dir.write("flags.extra", "timeout=forever\n");
  result = run(dir.path(), {"check"});
  EXPECT_EQ(result.code, 3) << result.err;
  EXPECT_NE(result.err.find("flags.extra:1"), std::string::npos) << result.err;
  dir.write("flags.extra", "\n\nmdb File=x\n");
  result = run(dir.path(), {"check"});
  EXPECT_EQ(result.code, 3) << result.err;
  EXPECT_NE(result.err.find("flags.extra:3: name has white space"),
            std::string::npos)
      << result.err;
}

} // namespace
} // namespace dm
