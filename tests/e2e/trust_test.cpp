// Trust beyond a certificate's own methods, as the original's SRPC server:
// -srpcTrustedUsers and -srpcTrustedGroups give every method power, and a
// certificate from the -identityCAfile CA is accepted but powerless; over
// SRPC and over HTTPS alike.
#include <gtest/gtest.h>

#include "srpc/srpc_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/support/tls_exchange.hpp"

using namespace dm;
using namespace dm::test;

namespace {

struct credentials {
  std::string cert, key;
};

struct trust : ::testing::Test {
  temp_dir dir;
  test_pki pki;
  key_and_certificate identity_ca;
  std::string identity_ca_file;
  credentials alice, bob, eve, carol, dave;
  std::unique_ptr<server_process> server;

  static certificate_spec person(const std::string& name,
                                 std::vector<std::string> groups = {},
                                 std::vector<std::string> methods = {}) {
    certificate_spec spec;
    spec.common_name = name;
    spec.client_auth = true;
    if (!groups.empty())
      spec.extensions.emplace_back(std::string(group_list_oid),
                                   der_utf8_string_list(groups));
    if (!methods.empty())
      spec.extensions.emplace_back(std::string(permitted_methods_oid),
                                   der_utf8_string_list(methods));
    return spec;
  }

  void SetUp() override {
    certificate_spec ca_spec;
    ca_spec.common_name = "dm test identity CA";
    ca_spec.is_ca = true;
    identity_ca = issue_certificate(ca_spec, nullptr);
    identity_ca_file = pki.write_ca(identity_ca, "identity-ca");
    auto issue = [&](const key_and_certificate& issuer,
                     const certificate_spec& spec) {
      auto [cert, key] = pki.write_client_of(issuer, spec.common_name, spec);
      return credentials{cert, key};
    };
    // From the full CA, without any methods extension.
    alice = issue(pki.ca, person("alice"));
    bob = issue(pki.ca, person("bob", {"staff", "fleet-ops"}));
    eve = issue(pki.ca, person("eve", {"staff"}));
    // From the identity CA: methods listed, but they must not count.
    carol =
        issue(identity_ca, person("carol", {"staff"}, {"DisruptionManager.*"}));
    dave = issue(identity_ca, person("dave", {"fleet-ops"}));
  }

  void start(std::vector<std::string> extra) {
    auto args = server_tls_flags(pki);
    args.insert(args.end(), extra.begin(), extra.end());
    server = std::make_unique<server_process>(DM_SERVER_BINARY,
                                              dir.file("state"), args);
    ASSERT_TRUE(server->start()) << server->log_text();
  }

  void start_trusting() {
    start({"-srpcTrustedUsers=alice,zed", "-srpcTrustedGroups=ops,fleet-ops",
           "-identityCAfile=" + identity_ca_file});
  }

  std::unique_ptr<srpc_client> srpc(const credentials& who,
                                    const std::string& source, srpc_coder coder,
                                    std::string& error) {
    srpc_client_options options;
    options.port = server->port();
    options.source_address = source;
    options.coder = coder;
    options.tls = client_tls(pki, who.cert, who.key);
    return srpc_client::connect(options, error);
  }

  // The state or the Error of one SRPC call for `host`, from `source`.
  std::string srpc_call(const credentials& who, const std::string& source,
                        srpc_coder coder, request_kind kind,
                        const std::string& host) {
    std::string error;
    auto client = srpc(who, source, coder, error);
    if (!client)
      return "no connection: " + error;
    machine_record m;
    m.hostname = host;
    m.tags["DisruptionManagerGroupIdentifier"] = host;
    disruption_state state = disruption_state::anytime;
    std::string response_error;
    if (!client->call(kind, m, state, response_error, error))
      return "failed: " + error;
    return response_error.empty() ? std::string(to_string(state))
                                  : response_error;
  }

  // "<status> <body>" of one HTTPS REST call for `host`, from `source`.
  std::string https_call(const credentials& who, const std::string& source,
                         const std::string& op, const std::string& host) {
    auto context = client_tls(pki, who.cert, who.key);
    return https_post(server->port(), source, *context,
                      R"({"MDB":{"Hostname":")" + host +
                          R"(","Tags":{"DisruptionManagerGroupIdentifier":")" +
                          host + R"("}},"Request":")" + op + R"("})");
  }
};

} // namespace

TEST_F(trust, trusted_users_and_groups_may_act_for_any_machine) {
  start_trusting();
  int n = 0;
  for (auto* who : {&alice, &bob, &dave}) {
    for (auto coder : {srpc_coder::gob, srpc_coder::json}) {
      auto host = "127.0.99." + std::to_string(++n);
      EXPECT_EQ(
          srpc_call(*who, "127.0.30.1", coder, request_kind::request, host),
          "permitted")
          << n;
      EXPECT_EQ(
          srpc_call(*who, "127.0.30.1", coder, request_kind::cancel, host),
          "denied")
          << n;
    }
    auto host = "127.0.99." + std::to_string(++n);
    auto answer = https_call(*who, "127.0.30.2", "request", host);
    EXPECT_EQ(answer.substr(0, 3), "200") << answer;
    EXPECT_NE(answer.find("permitted"), std::string::npos) << answer;
    answer = https_call(*who, "127.0.30.2", "cancel", host);
    EXPECT_NE(answer.find("denied"), std::string::npos) << answer;
  }
  // The same CA without the trust: only for itself.
  EXPECT_EQ(srpc_call(eve, "127.0.30.3", srpc_coder::gob, request_kind::request,
                      "127.0.98.1"),
            "127.0.98.1 not permitted");
  EXPECT_EQ(https_call(eve, "127.0.30.3", "request", "127.0.98.1").substr(0, 4),
            "403 ");
}

TEST_F(trust, without_the_flags_the_same_certificates_have_no_power) {
  start({});
  for (auto* who : {&alice, &bob}) {
    EXPECT_EQ(srpc_call(*who, "127.0.31.1", srpc_coder::gob,
                        request_kind::request, "127.0.98.2"),
              "127.0.98.2 not permitted");
    EXPECT_EQ(
        https_call(*who, "127.0.31.1", "request", "127.0.98.2").substr(0, 4),
        "403 ");
  }
  // Without -identityCAfile (its default file does not exist here), the
  // identity CA is unknown: SRPC refuses the certificate.
  std::string error;
  EXPECT_FALSE(srpc(carol, "127.0.31.2", srpc_coder::gob, error) &&
               srpc_call(carol, "127.0.31.2", srpc_coder::gob,
                         request_kind::check, "127.0.31.2") == "permitted");
}

TEST_F(trust, an_identity_ca_certificate_is_accepted_and_powerless) {
  start_trusting();
  for (auto coder : {srpc_coder::gob, srpc_coder::json}) {
    // Accepted: a check, and a request for its own machine, work.
    EXPECT_EQ(srpc_call(carol, "127.0.32.1", coder, request_kind::check,
                        "127.0.98.3"),
              "denied");
    EXPECT_EQ(srpc_call(carol, "127.0.32.1", coder, request_kind::request,
                        "127.0.32.1"),
              "permitted");
    EXPECT_EQ(srpc_call(carol, "127.0.32.1", coder, request_kind::cancel,
                        "127.0.32.1"),
              "denied");
    // Powerless: its methods extension does not count.
    EXPECT_EQ(srpc_call(carol, "127.0.32.1", coder, request_kind::request,
                        "127.0.98.3"),
              "127.0.98.3 not permitted");
  }
  auto answer = https_call(carol, "127.0.32.2", "check", "127.0.98.3");
  EXPECT_EQ(answer.substr(0, 4), "200 ") << answer;
  EXPECT_NE(answer.find("\"denied\""), std::string::npos) << answer;
  answer = https_call(carol, "127.0.32.2", "request", "127.0.98.3");
  EXPECT_EQ(answer.substr(0, 4), "403 ") << answer;
  // A certificate of the full CA keeps its methods.
  credentials op{pki.operator_cert, pki.operator_key};
  EXPECT_EQ(srpc_call(op, "127.0.32.3", srpc_coder::gob, request_kind::request,
                      "127.0.98.4"),
            "permitted");
  EXPECT_EQ(https_call(op, "127.0.32.3", "cancel", "127.0.98.4").substr(0, 3),
            "200");
}
