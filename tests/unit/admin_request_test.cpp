// Admin API requests (docs/protocol.md, "Admin API"): each operation read
// from its path and body, every malformed one refused naming what is wrong.
#include <gtest/gtest.h>

#include "frontend/admin_request.hpp"

using namespace dm;

TEST(admin_request, reads_each_operation) {
  auto r = parse_admin_request("status", "GET", "");
  ASSERT_TRUE(r.command);
  EXPECT_EQ(r.command->operation, admin_operation::status);
  r = parse_admin_request(
      "release", "POST",
      R"({"Host": "m1", "SkipReadyGate": true, "Reason": "gone"})");
  ASSERT_TRUE(r.command) << r.error;
  EXPECT_EQ(r.command->host, "m1");
  EXPECT_TRUE(r.command->skip_ready_gate);
  EXPECT_EQ(r.command->reason, "gone");
  r = parse_admin_request("pause", "POST", R"({"Group": ""})");
  ASSERT_TRUE(r.command) << r.error; // the global group
  EXPECT_EQ(r.command->group, "");
  r = parse_admin_request("freeze", "POST", "");
  ASSERT_TRUE(r.command) << r.error;
  r = parse_admin_request("limit", "POST", R"({"Group": "G", "Limit": 7})");
  ASSERT_TRUE(r.command) << r.error;
  EXPECT_EQ(r.command->limit, 7u);
  r = parse_admin_request("limit", "POST",
                          R"({"Group": "G", "Limit": "clear"})");
  ASSERT_TRUE(r.command) << r.error;
  EXPECT_EQ(r.command->limit, 0u);
  r = parse_admin_request(
      "window", "POST",
      R"({"Group": "G", "Window": "Mon-Fri 01:00-05:00 Europe/Berlin"})");
  ASSERT_TRUE(r.command) << r.error;
  EXPECT_EQ(r.command->operation, admin_operation::window);
  ASSERT_TRUE(r.command->windows);
  EXPECT_EQ(r.command->windows->spec(), "Mon-Fri 01:00-05:00 Europe/Berlin");
  r = parse_admin_request("window", "POST",
                          R"({"Group": "G", "Window": "clear"})");
  ASSERT_TRUE(r.command) << r.error;
  EXPECT_FALSE(r.command->windows);
}

TEST(admin_request, refuses_what_is_malformed_naming_it) {
  struct bad {
    const char* name;
    const char* method;
    std::string body;
    int status;
    std::string error;
  };
  for (const auto& c : std::vector<bad>{
           {"nope", "POST", "{}", 404,
            "no admin operation \"nope\"; there are: status, release, pause, "
            "resume, freeze, thaw, limit, window"},
           {"pause", "GET", "", 405, "pause takes POST"},
           {"status", "POST", "", 405, "status takes GET"},
           {"pause", "POST", "[1]", 400, "the body is not a JSON object"},
           {"pause", "POST", "{\"Group\":", 400, "the body is not JSON"},
           {"thaw", "POST", R"({"Group": "G"})", 400,
            "thaw takes no member \"Group\""},
           {"resume", "POST", R"({"Reason": "x"})", 400,
            "resume needs a Group"},
           {"release", "POST", R"({"Host": null})", 400,
            "Host is not a string"},
           {"release", "POST", R"({"Host": "a\tb"})", 400,
            "Host contains a control character"},
           {"pause", "POST", R"({"Group": ")" + std::string(1025, 'g') + "\"}",
            400, "Group is longer than 1024 bytes"},
           {"pause", "POST",
            R"({"Group": "G", "Reason": ")" + std::string(1025, 'r') + "\"}",
            400, "Reason is longer than 1024 bytes"},
           {"limit", "POST", R"({"Group": "G"})", 400,
            "limit needs a Limit (a number or \"clear\")"},
           {"limit", "POST", R"({"Group": "G", "Limit": 0})", 400,
            "Limit must be a whole number from 1 to 1000000 or \"clear\""},
           {"limit", "POST", R"({"Group": "G", "Limit": "3"})", 400,
            "Limit must be a whole number from 1 to 1000000 or \"clear\""},
           {"window", "POST", R"({"Group": "G"})", 400,
            "window needs a Window (a spec such as \"Mon-Fri 01:00-05:00 "
            "Europe/Berlin\", or \"clear\")"},
           {"window", "POST", R"({"Group": "G", "Window": 3})", 400,
            "Window is not a string"},
           {"window", "POST", R"({"Group": "G", "Window": ""})", 400,
            "Window: the maintenance window spec is empty"},
           {"window", "POST",
            R"({"Group": "G", "Window": "Mox 01:00-02:00 UTC"})", 400,
            "Window: bad day \"Mox\" in \"Mox 01:00-02:00 UTC\" (days are Mon, "
            "Tue, Wed, Thu, Fri, Sat, Sun, as a range Mon-Fri or a list "
            "Mon,Wed)"},
           {"window", "POST",
            R"({"Group": "G", "Window": "Mon 01:00-02:00 Mars/Olympus"})", 400,
            "Window: unknown time zone \"Mars/Olympus\" in \"Mon 01:00-02:00 "
            "Mars/Olympus\" (a name of the tz database, such as UTC or "
            "Europe/Berlin)"},
           {"window", "POST", R"({"Window": "clear"})", 400,
            "window needs a Group"},
       }) {
    auto r = parse_admin_request(c.name, c.method, c.body);
    EXPECT_FALSE(r.command) << c.name << " " << c.body;
    EXPECT_EQ(r.status, c.status) << c.name << " " << c.body;
    EXPECT_EQ(r.error, c.error) << c.name << " " << c.body;
  }
}
