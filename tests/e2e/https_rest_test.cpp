// REST over HTTPS on the service port: TLS is detected by its first byte,
// and a client certificate with power over Request/Cancel lifts the
// self-only rule, as for SRPC.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/http_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/support/tls_exchange.hpp"
#include "tls/tls_context.hpp"

using namespace dm;
using namespace dm::test;

TEST(https_rest, certificate_with_power_may_act_for_others) {
  temp_dir dir;
  test_pki pki;
  server_process server(DM_SERVER_BINARY, dir.file("state"),
                        server_tls_flags(pki));
  ASSERT_TRUE(server.start()) << server.log_text();
  auto body = [](const std::string& host, const std::string& op) {
    return R"({"MDB":{"Hostname":")" + host +
           R"(","Tags":{"DisruptionManagerGroupIdentifier":"H"}},"Request":")" +
           op + R"("})";
  };
  auto op = client_tls(pki, pki.operator_cert, pki.operator_key);
  auto answer = https_post(server.port(), "127.0.70.1", *op,
                           body("remote-machine", "request"));
  EXPECT_EQ(answer.substr(0, 3), "200") << answer;
  EXPECT_NE(answer.find("permitted"), std::string::npos) << answer;
  // A machine certificate without powers: only for itself.
  auto machine = client_tls(pki, pki.machine_cert, pki.machine_key);
  answer = https_post(server.port(), "127.0.0.5", *machine,
                      body("other-machine", "request"));
  EXPECT_EQ(answer.substr(0, 4), "403 ") << answer;
  EXPECT_NE(answer.find("other-machine"), std::string::npos) << answer;
  answer = https_post(server.port(), "127.0.0.5", *machine,
                      body("127.0.0.5", "request"));
  EXPECT_NE(answer.find("requested"), std::string::npos) << answer;
  // No certificate at all: HTTPS works, the caller has no powers.
  client_tls_options anonymous;
  anonymous.check = server_check::verify_with_ca;
  anonymous.ca_file = pki.ca_cert;
  std::string error;
  auto plain_tls = tls_context::make_client(anonymous, error);
  ASSERT_TRUE(plain_tls) << error;
  answer = https_post(server.port(), "127.0.70.2", *plain_tls,
                      body("remote-machine", "cancel"));
  EXPECT_EQ(answer.substr(0, 4), "403 ") << answer;
  EXPECT_NE(answer.find("remote-machine"), std::string::npos) << answer;
  answer = https_post(server.port(), "127.0.70.2", *plain_tls,
                      body("remote-machine", "check"));
  EXPECT_NE(answer.find("permitted"), std::string::npos) << answer;
  // The operator cancels it again.
  answer = https_post(server.port(), "127.0.70.1", *op,
                      body("remote-machine", "cancel"));
  EXPECT_NE(answer.find("denied"), std::string::npos) << answer;
  // Plain HTTP on the same port still works.
  EXPECT_EQ(disruption(server.port(), "request", "127.0.70.3",
                       R"({"DisruptionManagerGroupIdentifier":"H2"})"),
            "permitted");
}
