// The admission flow every entry uses: cheap checks, then access by the
// self-only rule, then the look-up, and only then a cancel's ready gate.
#include <gtest/gtest.h>

#include "frontend/admission.hpp"
#include "metrics/service_metrics.hpp"
#include "tests/support/fake_channel.hpp"

using namespace dm;
using dm::test::fake_channel;

namespace {

machine_record machine(std::string host,
                       std::map<std::string, std::string> tags = {}) {
  machine_record m;
  m.hostname = std::move(host);
  m.tags = std::move(tags);
  return m;
}

const std::map<std::string, std::string> gated = {
    {"DisruptionManagerGroupIdentifier", "G"},
    {"DisruptionManagerGroupMaximumDisrupting", "3"},
    {"DisruptionManagerReadyUrl", "http://{{.Hostname}}:8/ready"}};

std::uint64_t refused_so_far() {
  return service_metrics::instance().access_refused.load();
}

} // namespace

TEST(admission, check_is_open_to_anyone) {
  fake_channel ch;
  admission flow;
  EXPECT_FALSE(flow.admit(ch, request_kind::check, machine("h1", gated),
                          "10.9.9.9", false));
  ASSERT_EQ(ch.calls.size(), 1u);
  EXPECT_TRUE(ch.lookups.empty());
  EXPECT_EQ(ch.calls[0].host, "h1");
  EXPECT_EQ(ch.calls[0].group, "G");
  EXPECT_EQ(ch.calls[0].limit, 3u);
  EXPECT_FALSE(ch.calls[0].has_gate); // a check carries none
}

TEST(admission, the_machine_itself_or_method_power_needs_no_lookup) {
  fake_channel own;
  admission flow;
  EXPECT_FALSE(flow.admit(own, request_kind::request, machine("10.1.2.3"),
                          "10.1.2.3", false));
  EXPECT_EQ(own.calls.size(), 1u);
  EXPECT_TRUE(own.lookups.empty());
  fake_channel powerful;
  EXPECT_FALSE(flow.admit(powerful, request_kind::cancel, machine("h2", gated),
                          "10.9.9.9", true));
  ASSERT_EQ(powerful.calls.size(), 1u);
  EXPECT_TRUE(powerful.lookups.empty());
  EXPECT_TRUE(powerful.calls[0].has_gate);
  EXPECT_EQ(powerful.calls[0].gate_url, "http://h2:8/ready");
}

TEST(admission, another_peer_is_admitted_only_from_the_hosts_addresses) {
  for (auto kind : {request_kind::request, request_kind::cancel}) {
    fake_channel ch;
    admission flow;
    EXPECT_FALSE(flow.admit(ch, kind, machine("h3", gated), "10.0.0.7", false));
    EXPECT_TRUE(ch.calls.empty());
    ASSERT_EQ(ch.lookups, std::vector<std::string>{"h3"});
    EXPECT_FALSE(flow.resolved(ch, {"10.0.0.6", "10.0.0.7"}, ""));
    ASSERT_EQ(ch.calls.size(), 1u);
    EXPECT_EQ(ch.calls[0].kind, kind);
    EXPECT_EQ(ch.calls[0].group, "G");
    // The gate comes from the record kept over the look-up (a request's
    // is kept by its group for an operator's release).
    EXPECT_EQ(ch.calls[0].gate_url, "http://h3:8/ready");
  }
}

TEST(admission, a_stranger_or_a_failed_lookup_is_forbidden_and_counted) {
  fake_channel ch;
  admission flow;
  auto before = refused_so_far();
  EXPECT_FALSE(
      flow.admit(ch, request_kind::request, machine("h4"), "10.0.0.7", false));
  auto refused = flow.resolved(ch, {"10.0.0.8"}, "");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->kind, refusal_kind::forbidden);
  EXPECT_EQ(refused->reason, "h4 not permitted");
  EXPECT_FALSE(
      flow.admit(ch, request_kind::request, machine("h5"), "10.0.0.7", false));
  refused = flow.resolved(ch, {}, "lookup h5: no such host");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->kind, refusal_kind::forbidden);
  EXPECT_EQ(refused->reason, "lookup h5: no such host");
  EXPECT_TRUE(ch.calls.empty());
  EXPECT_EQ(refused_so_far() - before, 2u);
}

TEST(admission, a_strangers_cancel_is_forbidden_whatever_its_template) {
  // Access decides, not the template (which cannot even be parsed).
  fake_channel ch;
  admission flow;
  auto m = machine("h6", {{"DisruptionManagerReadyUrl", "http://{{.Nope"}});
  EXPECT_FALSE(flow.admit(ch, request_kind::cancel, m, "10.0.0.7", false));
  auto refused = flow.resolved(ch, {"10.0.0.8"}, "");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->kind, refusal_kind::forbidden);
  EXPECT_EQ(refused->reason, "h6 not permitted");
  // Its owner gets the call, with the gate's error for the group to report.
  fake_channel own;
  EXPECT_FALSE(flow.admit(own, request_kind::cancel, m, "10.0.0.7", true));
  ASSERT_EQ(own.calls.size(), 1u);
  EXPECT_FALSE(own.calls[0].has_gate);
  EXPECT_NE(own.calls[0].gate_error.find("DisruptionManagerReadyUrl"),
            std::string::npos);
}

TEST(admission, unusable_names_are_bad_requests_before_access) {
  fake_channel ch;
  admission flow;
  auto refused =
      flow.admit(ch, request_kind::request, machine(""), "10.0.0.7", false);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->kind, refusal_kind::bad_request);
  EXPECT_EQ(refused->reason, "MDB.Hostname is required");
  refused = flow.admit(ch, request_kind::request, machine("h\xff"), "10.0.0.7",
                       false);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->kind, refusal_kind::bad_request);
  EXPECT_EQ(refused->reason, "MDB.Hostname is not valid UTF-8");
  EXPECT_TRUE(ch.calls.empty());
  EXPECT_TRUE(ch.lookups.empty());
}

TEST(admission, method_power_is_read_from_the_identity) {
  auto identity = dm::test::powerful_identity("DisruptionManager.Cancel");
  EXPECT_TRUE(has_method_power(identity.get(), request_kind::cancel));
  EXPECT_FALSE(has_method_power(identity.get(), request_kind::request));
  EXPECT_FALSE(has_method_power(nullptr, request_kind::cancel));
}

// The operators' entry: HTTPS with the Admin power on a server with TLS,
// loopback on one without; refusals counted as the calls' are.
namespace {

std::shared_ptr<const peer_identity>
verified(std::string user, std::vector<std::string> methods) {
  auto id = std::make_shared<peer_identity>();
  id->has_certificate = true;
  id->verified = true;
  id->username = std::move(user);
  id->method_globs = std::move(methods);
  return id;
}

admin_command pause_g() {
  admin_command cmd;
  cmd.operation = admin_operation::pause;
  cmd.group = "G";
  return cmd;
}

} // namespace

TEST(admission, admin_over_https_needs_the_admin_power) {
  auto before = refused_so_far();
  fake_channel ch;
  ch.is_encrypted = true;
  ch.peer_id = verified("op", {"DisruptionManager.*"});
  EXPECT_FALSE(admit_admin(ch, pause_g(), true));
  ASSERT_EQ(ch.admin_commands.size(), 1u);
  EXPECT_EQ(ch.admin_commands[0].who, "op");
  fake_channel weak;
  weak.is_encrypted = true;
  weak.peer_id = verified("m", {"DisruptionManager.Request"});
  auto refused = admit_admin(weak, pause_g(), true);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->kind, refusal_kind::forbidden);
  EXPECT_EQ(refused->reason, "the certificate of \"m\" has no power over "
                             "DisruptionManager.Admin");
  fake_channel unverified;
  unverified.is_encrypted = true;
  auto id = std::make_shared<peer_identity>();
  id->has_certificate = true;
  unverified.peer_id = id;
  EXPECT_TRUE(admit_admin(unverified, pause_g(), true));
  // Plain HTTP on a TLS server, even from loopback and whatever it claims.
  fake_channel plain;
  refused = admit_admin(plain, pause_g(), true);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason,
            "admin operations need HTTPS with a client certificate");
  EXPECT_TRUE(weak.admin_commands.empty());
  EXPECT_TRUE(unverified.admin_commands.empty());
  EXPECT_TRUE(plain.admin_commands.empty());
  EXPECT_EQ(refused_so_far() - before, 3u);
}

TEST(admission, admin_without_tls_only_from_loopback) {
  for (const char* peer :
       {"127.0.0.1", "127.3.4.5", "::1", "::ffff:127.0.0.9"}) {
    fake_channel ch;
    ch.peer = peer;
    EXPECT_FALSE(admit_admin(ch, pause_g(), false)) << peer;
    ASSERT_EQ(ch.admin_commands.size(), 1u) << peer;
    EXPECT_EQ(ch.admin_commands[0].who, peer);
  }
  for (const char* peer : {"10.0.0.7", "::2", "128.0.0.1", "::ffff:10.0.0.1"}) {
    fake_channel ch;
    ch.peer = peer;
    // A certificate's power means nothing on a server without TLS.
    ch.peer_id = verified("op", {"*"});
    auto refused = admit_admin(ch, pause_g(), false);
    ASSERT_TRUE(refused) << peer;
    EXPECT_NE(refused->reason.find("loopback"), std::string::npos);
    EXPECT_TRUE(ch.admin_commands.empty());
  }
}
