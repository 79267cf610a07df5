// The state directory backend: durability, torn tails, corruption,
// compaction, and migration from the original's state.json.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <limits>
#include <random>

#include "storage/file_store.hpp"
#include "storage/legacy_state.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dm;
using namespace std::chrono_literals;

namespace {

timestamp at(std::int64_t seconds) {
  return timestamp{std::chrono::seconds(seconds)};
}

std::unique_ptr<file_store> open_store(const std::string& dir,
                                       std::uint64_t compact = 4u << 20) {
  std::string error;
  std::vector<std::string> notes;
  file_store_options options;
  options.directory = dir;
  options.compact_min_bytes = compact;
  auto store = file_store::open(options, error, notes);
  EXPECT_TRUE(store) << error;
  return store;
}

state_change permit(const std::string& group, const std::string& host,
                    std::uint64_t seq, std::int64_t when = 1000) {
  return state_change::host_update(
      group, host, host_entry{holding{true, at(when), seq}, std::nullopt});
}

} // namespace

TEST(file_store, empty_directory_gives_empty_state) {
  test::temp_dir dir;
  auto store = open_store(dir.path() + "/state");
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->loaded().groups.empty());
}

TEST(file_store, synced_changes_survive_reopen) {
  test::temp_dir dir;
  {
    auto store = open_store(dir.path());
    std::string error;
    ASSERT_TRUE(store->append(
        {permit("G", "a", 1), state_change::limit_update("G", 3)}, error));
    ASSERT_TRUE(
        store->append({state_change::host_update(
                          "G", "b",
                          host_entry{holding{false, at(1001), 2},
                                     waiting{at(5000), "http://x", 0}})},
                      error));
    ASSERT_TRUE(store->sync(error)) << error;
  }
  auto store = open_store(dir.path());
  const auto& g = store->loaded().groups.at("G");
  EXPECT_EQ(g.limit, 3u);
  ASSERT_EQ(g.hosts.size(), 2u);
  EXPECT_TRUE(g.hosts.at("a").hold->permitted);
  EXPECT_EQ(g.hosts.at("a").hold->last_request, at(1000));
  EXPECT_FALSE(g.hosts.at("b").hold->permitted);
  EXPECT_EQ(g.hosts.at("b").hold->queue_seq, 2u);
  EXPECT_EQ(g.hosts.at("b").wait->url, "http://x");
  EXPECT_EQ(g.hosts.at("b").wait->deadline, at(5000));
}

TEST(file_store, erase_removes_host) {
  test::temp_dir dir;
  {
    auto store = open_store(dir.path());
    std::string error;
    store->append({permit("G", "a", 1)}, error);
    store->append({state_change::host_update("G", "a", host_entry{})}, error);
    ASSERT_TRUE(store->sync(error));
  }
  EXPECT_TRUE(open_store(dir.path())->loaded().groups.empty());
}

// Finding: a check saved a new group's limit, and such groups came back
// after every restart. A group without machines is kept neither in the
// files nor in memory; journals of older versions are read as they were
// written (a group emptied and filled again kept its limit) and what is
// left without machines is dropped.
TEST(file_store, groups_without_machines_are_not_kept) {
  test::temp_dir dir;
  {
    // As older versions wrote them: a limit alone (a check), and a group
    // emptied and filled again without its limit said again.
    std::ofstream journal(dir.path() + "/state.journal");
    for (const auto& change :
         {state_change::limit_update("checked", 5), permit("G", "a", 1),
          state_change::limit_update("G", 4),
          state_change::host_update("G", "a", host_entry{}),
          permit("G", "b", 2)})
      journal << encode_state_line(change);
  }
  {
    auto store = open_store(dir.path(), 1);
    const auto& loaded = store->loaded();
    EXPECT_EQ(loaded.groups.size(), 1u);
    EXPECT_EQ(loaded.groups.at("G").limit, 4u);
    EXPECT_EQ(store->describe().find("1 groups loaded") != std::string::npos,
              true)
        << store->describe();
    // At run time the last host takes its group along; the compaction
    // (forced by the tiny threshold) writes no group without machines.
    std::string error;
    ASSERT_TRUE(
        store->append({permit("H", "c", 1), state_change::limit_update("H", 7),
                       state_change::host_update("H", "c", host_entry{})},
                      error));
    ASSERT_TRUE(store->sync(error)) << error;
    EXPECT_GE(store->compactions(), 1u);
  }
  auto store = open_store(dir.path());
  EXPECT_EQ(store->loaded().groups.size(), 1u);
  EXPECT_EQ(store->loaded().groups.count("H"), 0u);
}

// The actors take the loaded state over; the store keeps no copy of it
// and still writes, compacts and reopens as before.
TEST(file_store, the_loaded_state_is_handed_over_once) {
  test::temp_dir dir;
  std::string error;
  {
    auto store = open_store(dir.path());
    ASSERT_TRUE(store->append(
        {permit("G", "a", 1), permit("G", "b", 2), permit("H", "c", 3)},
        error));
    ASSERT_TRUE(store->sync(error)) << error;
  }
  auto store = open_store(dir.path(), 1);
  auto taken = store->take_loaded();
  EXPECT_EQ(taken.host_count(), 3u);
  EXPECT_EQ(taken.groups.size(), 2u);
  EXPECT_TRUE(store->loaded().groups.empty());
  EXPECT_NE(store->describe().find("3 machines in 2 groups loaded"),
            std::string::npos)
      << store->describe();
  // Writing goes on from what is on disk (a compaction is due at once).
  ASSERT_TRUE(store->append({permit("H", "d", 4)}, error));
  ASSERT_TRUE(store->sync(error)) << error;
  EXPECT_GE(store->compactions(), 1u);
  store.reset();
  EXPECT_EQ(open_store(dir.path())->loaded().host_count(), 4u);
}

TEST(file_store, unsynced_changes_are_not_written) {
  test::temp_dir dir;
  {
    auto store = open_store(dir.path());
    std::string error;
    store->append({permit("G", "a", 1)}, error);
  }
  EXPECT_TRUE(open_store(dir.path())->loaded().groups.empty());
}

TEST(file_store, torn_last_line_is_dropped_with_a_note) {
  test::temp_dir dir;
  {
    auto store = open_store(dir.path());
    std::string error;
    store->append({permit("G", "a", 1)}, error);
    ASSERT_TRUE(store->sync(error));
  }
  auto journal = dir.read("state.journal");
  auto extra = encode_state_line(permit("G", "b", 2));
  dir.write("state.journal", journal + extra.substr(0, extra.size() / 2));
  std::string error;
  std::vector<std::string> notes;
  file_store_options options;
  options.directory = dir.path();
  auto store = file_store::open(options, error, notes);
  ASSERT_TRUE(store) << error;
  EXPECT_EQ(store->loaded().host_count(), 1u);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("cut short"), std::string::npos);
  // The torn bytes are gone, so later appends make whole lines.
  ASSERT_TRUE(store->append({permit("G", "c", 3)}, error));
  ASSERT_TRUE(store->sync(error));
  store.reset();
  EXPECT_EQ(open_store(dir.path())->loaded().host_count(), 2u);
}

TEST(file_store, corrupt_middle_line_is_an_error_not_an_empty_state) {
  test::temp_dir dir;
  {
    auto store = open_store(dir.path());
    std::string error;
    store->append({permit("G", "a", 1), permit("G", "b", 2)}, error);
    ASSERT_TRUE(store->sync(error));
  }
  auto journal = dir.read("state.journal");
  journal[12] ^= 0x01; // flip a bit inside the first line's JSON
  dir.write("state.journal", journal);
  std::string error;
  std::vector<std::string> notes;
  file_store_options options;
  options.directory = dir.path();
  EXPECT_FALSE(file_store::open(options, error, notes));
  EXPECT_NE(error.find("line 1"), std::string::npos) << error;
  EXPECT_NE(error.find("corrupt"), std::string::npos) << error;
}

TEST(file_store, compaction_keeps_everything_and_bounds_the_journal) {
  test::temp_dir dir;
  {
    auto store = open_store(dir.path(), 4096);
    std::string error;
    for (int round = 0; round < 200; ++round) {
      for (int h = 0; h < 10; ++h)
        store->append(
            {permit("G" + std::to_string(h % 3), "host-" + std::to_string(h),
                    h + 1, 1000 + round)},
            error);
      ASSERT_TRUE(store->sync(error)) << error;
    }
    EXPECT_GT(store->compactions(), 0u);
    EXPECT_LT(store->journal_bytes(), 8192u);
  }
  auto store = open_store(dir.path());
  EXPECT_EQ(store->loaded().host_count(), 10u);
  EXPECT_EQ(
      store->loaded().groups.at("G0").hosts.at("host-0").hold->last_request,
      at(1199));
}

TEST(file_store, truncated_snapshot_is_an_error) {
  test::temp_dir dir;
  {
    auto store = open_store(dir.path(), 10);
    std::string error;
    store->append({permit("G", "a", 1), permit("G", "b", 2)}, error);
    ASSERT_TRUE(store->sync(error));
    ASSERT_GT(store->compactions(), 0u);
  }
  auto snapshot = dir.read("state.snapshot");
  dir.write("state.snapshot",
            snapshot.substr(0, snapshot.rfind("{\"end\"") - 9));
  std::string error;
  std::vector<std::string> notes;
  file_store_options options;
  options.directory = dir.path();
  EXPECT_FALSE(file_store::open(options, error, notes));
  EXPECT_NE(error.find("state.snapshot"), std::string::npos) << error;
}

TEST(file_store, imports_original_state_json) {
  test::temp_dir dir;
  dir.write("state.json", R"([
    {
        "Identifier": "",
        "Permitted": [
            {"Hostname": "p1", "LastRequest": "2030-01-02T03:04:05.5Z",
             "ReadyTimeout": "0001-01-01T00:00:00Z"}
        ],
        "Requested": [
            {"Hostname": "r2", "LastRequest": "2030-01-02T03:04:06Z"},
            {"Hostname": "r1", "LastRequest": "2030-01-02T04:04:07+01:00"}
        ]
    },
    {
        "Identifier": "Kubelets",
        "Waiting": [
            {"Hostname": "w1", "ReadyTimeout": "2999-01-01T00:00:00Z",
             "ReadyUrl": "http://w1:8080/ready"},
            {"Hostname": "gone", "ReadyTimeout": "2001-01-01T00:00:00Z"}
        ]
    }
])");
  {
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    const auto& global = store->loaded().groups.at("");
    EXPECT_TRUE(global.hosts.at("p1").hold->permitted);
    EXPECT_EQ(global.hosts.at("p1").hold->last_request,
              *parse_rfc3339("2030-01-02T03:04:05.5Z"));
    EXPECT_LT(global.hosts.at("r2").hold->queue_seq,
              global.hosts.at("r1").hold->queue_seq);
    EXPECT_EQ(global.hosts.at("r1").hold->last_request,
              *parse_rfc3339("2030-01-02T03:04:07Z"));
    const auto& kube = store->loaded().groups.at("Kubelets");
    EXPECT_EQ(kube.hosts.size(), 1u);
    EXPECT_EQ(kube.hosts.at("w1").wait->url, "http://w1:8080/ready");
    // Saved as our own snapshot at the first sync, not before the start
    // is done (writing it took a second at a million machines).
    EXPECT_FALSE(dir.exists("state.snapshot"));
    EXPECT_TRUE(store->sync_due());
    std::string error;
    ASSERT_TRUE(store->sync(error)) << error;
    EXPECT_TRUE(dir.exists("state.snapshot"));
    EXPECT_FALSE(store->sync_due());
  }
  // Imported once into our own files; the original's file is left as it was.
  dir.write("state.json", "[]");
  EXPECT_EQ(open_store(dir.path())->loaded().host_count(), 4u);
}

TEST(file_store, an_import_is_saved_before_the_first_journal_line) {
  test::temp_dir dir;
  dir.write("state.json", R"([{"Identifier": "G", "Permitted": [
    {"Hostname": "p1", "LastRequest": "2999-01-01T00:00:00Z"}]}])");
  std::string error;
  {
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    holding hold{true, *parse_rfc3339("2100-01-01T00:00:00Z"), 2};
    ASSERT_TRUE(store->append(
        {state_change::host_update("G", "p2", host_entry{hold, {}})}, error))
        << error;
    // The snapshot cannot be written (a directory in the temp file's way):
    // the change waits, and the journal stays empty, so a restart now
    // would import again rather than find a journal without the import.
    ASSERT_EQ(::mkdir(dir.file("state.snapshot.tmp").c_str(), 0755), 0);
    EXPECT_FALSE(store->sync(error));
    EXPECT_NE(error.find("state.snapshot"), std::string::npos) << error;
    EXPECT_EQ(store->journal_bytes(), 0u);
    EXPECT_EQ(store->pending_changes(), 1u);
    ASSERT_EQ(::rmdir(dir.file("state.snapshot.tmp").c_str()), 0);
    ASSERT_TRUE(store->sync(error)) << error;
    EXPECT_TRUE(dir.exists("state.snapshot"));
  }
  dir.write("state.json", "[]");
  auto store = open_store(dir.path());
  ASSERT_TRUE(store);
  EXPECT_EQ(store->loaded().host_count(), 2u);
}

TEST(file_store, an_import_that_did_not_finish_is_made_again) {
  const char* original = R"([{"Identifier": "G", "Permitted": [
    {"Hostname": "p1", "LastRequest": "2999-01-01T00:00:00Z"}]}])";
  std::string error;
  std::vector<std::string> notes;
  file_store_options options;
  {
    // The snapshot cannot be written (a directory in the temp file's way):
    // the sync fails and leaves nothing that hides state.json.
    test::temp_dir dir;
    dir.write("state.json", original);
    options.directory = dir.path();
    ASSERT_EQ(::mkdir(dir.file("state.snapshot.tmp").c_str(), 0755), 0);
    {
      auto first = file_store::open(options, error, notes);
      ASSERT_TRUE(first) << error;
      EXPECT_FALSE(first->sync(error));
    }
    ASSERT_EQ(::rmdir(dir.file("state.snapshot.tmp").c_str()), 0);
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    EXPECT_EQ(store->loaded().host_count(), 1u);
  }
  {
    // An empty journal and no snapshot (what a start that died before its
    // first snapshot leaves) is nothing of our own yet.
    test::temp_dir dir;
    dir.write("state.json", original);
    dir.write("state.journal", "");
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    EXPECT_EQ(store->loaded().host_count(), 1u);
  }
}

TEST(file_store, malformed_state_json_is_reported) {
  test::temp_dir dir;
  dir.write("state.json", "[{\"Identifier\": 5}]");
  std::string error;
  std::vector<std::string> notes;
  file_store_options options;
  options.directory = dir.path();
  EXPECT_FALSE(file_store::open(options, error, notes));
  EXPECT_NE(error.find("state.json"), std::string::npos);
}

TEST(legacy_state, rfc3339) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:01Z")->time_since_epoch(),
            std::chrono::seconds(1));
  EXPECT_EQ(parse_rfc3339("1970-01-01T01:00:01+01:00")->time_since_epoch(),
            std::chrono::seconds(1));
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00.000000123Z")->time_since_epoch(),
            std::chrono::nanoseconds(123));
  EXPECT_FALSE(parse_rfc3339("yesterday"));
  EXPECT_FALSE(parse_rfc3339("1970-01-01T00:00:00"));
}

TEST(file_store, text_that_is_not_utf8_never_fails_a_batch) {
  test::temp_dir dir;
  auto store = open_store(dir.path());
  std::string error;
  ASSERT_TRUE(store->append(
      {permit("G\xfd\xff", "h\xc0", 1), state_change::limit_update("\xfd", 2)},
      error));
  ASSERT_TRUE(store->sync(error)) << error;
  store.reset();
  EXPECT_EQ(open_store(dir.path())->loaded().host_count(), 1u);
}

namespace {

// The line format as first defined: the change as a JSON object built and
// written by nlohmann (keys sorted, non-ASCII as is, invalid UTF-8
// replaced), after its CRC-32 in hex and a space.
std::string reference_line(const state_change& change) {
  nlohmann::json out;
  out["g"] = change.group;
  if (change.host.empty()) {
    out["l"] = change.limit;
  } else {
    out["h"] = change.host;
    if (const auto& hold = change.entry.hold) {
      out["p"] = hold->permitted;
      out["t"] = hold->last_request.time_since_epoch().count();
      out["q"] = hold->queue_seq;
    }
    if (const auto& wait = change.entry.wait) {
      out["wd"] = wait->deadline.time_since_epoch().count();
      out["wu"] = wait->url;
    }
  }
  auto body =
      out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  char prefix[10];
  std::snprintf(prefix, sizeof(prefix), "%08x ",
                state_crc32(body.data(), body.size()));
  return prefix + body + "\n";
}

std::string random_text(std::mt19937_64& random) {
  static const std::vector<std::string> pieces = {
      "a",    "web-17", "G",        ".",
      "-",    " ",      "\"",       "\\",
      "/",    "\n",     "\t",       "\x01",
      "\x1f", "\x7f",   "\xc3\xa9", "\xf0\x9f\x9a\x80",
      "\xff", "\xc0",   "\xe2\x82", "http://ready/{{.Hostname}}",
      "%",    "{",      "}"};
  std::string text;
  auto n = random() % 6;
  for (std::uint64_t i = 0; i < n; ++i)
    text += pieces[random() % pieces.size()];
  return text;
}

std::int64_t random_time(std::mt19937_64& random) {
  switch (random() % 4) {
  case 0:
    return 0;
  case 1:
    return -static_cast<std::int64_t>(random() % 1000000);
  case 2:
    return std::numeric_limits<std::int64_t>::max();
  default:
    return static_cast<std::int64_t>(random() >> 1);
  }
}

} // namespace

TEST(file_store, lines_are_written_as_the_reference_format_writes_them) {
  std::mt19937_64 random(20261129);
  std::string all;
  std::string expected_all;
  for (int i = 0; i < 5000; ++i) {
    state_change change;
    if (random() % 5 == 0) {
      change = state_change::limit_update(
          random_text(random),
          random() % 2 ? random() : std::numeric_limits<std::uint64_t>::max());
    } else {
      host_entry entry;
      if (random() % 3 != 0)
        entry.hold =
            holding{random() % 2 == 0,
                    timestamp{std::chrono::nanoseconds(random_time(random))},
                    random() % 3 ? random() % 100 : random()};
      if (random() % 3 == 0)
        entry.wait =
            waiting{timestamp{std::chrono::nanoseconds(random_time(random))},
                    random_text(random), random()};
      auto host = random_text(random);
      change = state_change::host_update(random_text(random),
                                         host.empty() ? "h" : host, entry);
    }
    auto expected = reference_line(change);
    ASSERT_EQ(encode_state_line(change), expected) << "change " << i;
    append_state_line(all, change);
    expected_all += expected;
  }
  // Appending keeps what was there: one journal's worth, byte for byte.
  EXPECT_EQ(all, expected_all);
}

// State files are trusted no further than needed: only regular files are
// read, and no more than the limit; times must be in range; a complete
// last line is never dropped as torn.
namespace {

std::string open_error(const std::string& dir,
                       std::uint64_t max_file_bytes = 1ull << 30) {
  std::string error;
  std::vector<std::string> notes;
  file_store_options options;
  options.directory = dir;
  options.max_file_bytes = max_file_bytes;
  auto store = file_store::open(options, error, notes);
  EXPECT_FALSE(store) << "opened";
  return error;
}

} // namespace

TEST(file_store, journal_linked_to_dev_zero_is_refused) {
  test::temp_dir dir;
  ASSERT_EQ(::symlink("/dev/zero", dir.file("state.journal").c_str()), 0);
  auto error = open_error(dir.path());
  EXPECT_NE(error.find("state.journal"), std::string::npos) << error;
  EXPECT_NE(error.find("not a regular file"), std::string::npos) << error;
  EXPECT_NE(error.find("character device"), std::string::npos) << error;
}

TEST(file_store, fifo_state_files_are_refused_without_waiting) {
  for (const char* name : {"state.journal", "state.snapshot", "state.json"}) {
    test::temp_dir dir;
    ASSERT_EQ(::mkfifo(dir.file(name).c_str(), 0644), 0);
    // Nobody writes to the FIFO: a read would wait for ever.
    auto error = open_error(dir.path());
    EXPECT_NE(error.find(name), std::string::npos) << error;
    EXPECT_NE(error.find("not a regular file (a FIFO)"), std::string::npos)
        << error;
  }
}

TEST(file_store, state_file_beyond_the_read_limit_is_refused) {
  test::temp_dir dir;
  {
    auto store = open_store(dir.path());
    std::string error;
    ASSERT_TRUE(
        store->append({permit("G", "a", 1), permit("G", "b", 2)}, error));
    ASSERT_TRUE(store->sync(error));
  }
  auto error = open_error(dir.path(), 64);
  EXPECT_NE(error.find("state.journal"), std::string::npos) << error;
  EXPECT_NE(error.find("larger than 64 bytes"), std::string::npos) << error;
}

TEST(file_store, checksummed_times_out_of_range_are_refused) {
  for (auto when : {std::numeric_limits<std::int64_t>::min(),
                    std::numeric_limits<std::int64_t>::max(), std::int64_t{-1},
                    latest_stored_ns + 1}) {
    for (bool deadline : {false, true}) {
      test::temp_dir dir;
      // A checksummed line as a writer that did not check would make it.
      nlohmann::json body = {{"g", "G"}, {"h", "a"}};
      if (deadline) {
        body["wd"] = when;
        body["wu"] = "";
      } else {
        body["p"] = true;
        body["q"] = 1;
        body["t"] = when;
      }
      auto text = body.dump();
      char crc[9];
      std::snprintf(crc, sizeof crc, "%08x",
                    state_crc32(text.data(), text.size()));
      dir.write("state.journal", std::string(crc) + " " + text + "\n");
      auto error = open_error(dir.path());
      EXPECT_NE(error.find("state.journal: line 1 has a time out of range"),
                std::string::npos)
          << error;
      EXPECT_NE(error.find(std::to_string(when)), std::string::npos) << error;
    }
  }
  // And the store never writes one.
  test::temp_dir dir;
  auto store = open_store(dir.path());
  std::string error;
  auto far = timestamp{std::chrono::nanoseconds(latest_stored_ns + 1)};
  EXPECT_FALSE(store->append(
      {state_change::host_update(
          "G", "a", host_entry{holding{true, far, 1}, std::nullopt})},
      error));
  EXPECT_NE(error.find("out of the storable range"), std::string::npos)
      << error;
  EXPECT_EQ(store->pending_changes(), 0u);
  // The range ends are fine.
  EXPECT_TRUE(store->append(
      {permit("G", "b", 2, 0),
       state_change::host_update(
           "G", "c",
           host_entry{
               holding{true,
                       timestamp{std::chrono::nanoseconds(latest_stored_ns)},
                       3},
               std::nullopt})},
      error))
      << error;
  ASSERT_TRUE(store->sync(error));
  store.reset();
  EXPECT_EQ(open_store(dir.path())->loaded().host_count(), 2u);
}

TEST(file_store, complete_unknown_last_line_is_refused_by_name) {
  test::temp_dir dir;
  {
    auto store = open_store(dir.path());
    std::string error;
    store->append({permit("G", "a", 1)}, error);
    ASSERT_TRUE(store->sync(error));
  }
  std::string body = R"({"g":"G","future":"record"})";
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x", state_crc32(body.data(), body.size()));
  auto journal = dir.read("state.journal");
  dir.write("state.journal", journal + crc + " " + body + "\n");
  auto error = open_error(dir.path());
  EXPECT_NE(error.find("state.journal: line 2 has a record this version "
                       "cannot read: " +
                       body),
            std::string::npos)
      << error;
  // Damaged but complete: refused too, not dropped as torn.
  auto damaged = journal + encode_state_line(permit("G", "b", 2));
  damaged[damaged.size() - 5] ^= 1;
  dir.write("state.journal", damaged);
  error = open_error(dir.path());
  EXPECT_NE(error.find("line 2 is corrupt"), std::string::npos) << error;
}

// The operators' settings are state like the machines': journaled,
// compacted into the snapshot, and read back whole.
TEST(file_store, admin_settings_survive_journal_and_snapshot) {
  test::temp_dir dir;
  admin_settings admin;
  admin.frozen = true;
  admin.groups["G"].paused = true;
  admin.groups["H \"odd\""].limit_override = 7;
  audit_entry entry;
  entry.when = at(1234);
  entry.who = "admin@example";
  entry.operation = "pause";
  entry.target = "G";
  entry.reason = "incident 42";
  admin.record(entry);
  auto check = [&](const stored_state& s) {
    EXPECT_TRUE(s.admin.frozen);
    EXPECT_TRUE(s.admin.groups.at("G").paused);
    EXPECT_FALSE(s.admin.groups.at("G").limit_override);
    EXPECT_EQ(s.admin.groups.at("H \"odd\"").limit_override, 7u);
    ASSERT_EQ(s.admin.audit.size(), 1u);
    EXPECT_EQ(s.admin.audit[0].when, at(1234));
    EXPECT_EQ(s.admin.audit[0].who, "admin@example");
    EXPECT_EQ(s.admin.audit[0].reason, "incident 42");
  };
  {
    auto store = open_store(dir.path(), 1); // compacts at every sync
    std::string error;
    ASSERT_TRUE(store->append({permit("G", "a", 1)}, error));
    ASSERT_TRUE(store->append({state_change::admin_update(admin)}, error));
    ASSERT_TRUE(store->sync(error)) << error;
    ASSERT_EQ(store->journal_bytes(), 0u); // all in the snapshot now
  }
  check(open_store(dir.path())->loaded());
  {
    auto store = open_store(dir.path());
    std::string error;
    auto later = admin;
    later.frozen = false;
    ASSERT_TRUE(store->append({state_change::admin_update(later)}, error));
    ASSERT_TRUE(store->sync(error)) << error;
  }
  auto reopened = open_store(dir.path());
  EXPECT_FALSE(reopened->loaded().admin.frozen); // the journal's, latest
  EXPECT_EQ(reopened->loaded().admin.audit.size(), 1u);
}
