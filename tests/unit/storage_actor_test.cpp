// The storage actor under CAF's testing scheduler over a real file store in
// a temp directory: a change is reported saved only once it is on disk,
// answers held for a batch go out after its sync (the replicas hear of it
// first), batches queued together share one sync, and a failed sync is
// reported to everyone waiting on it.
#include "actors/storage.hpp"

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include "tests/support/failing_sync.hpp"
#include "tests/support/recording_sink.hpp"
#include "tests/support/stored_actor_fixture.hpp"

using namespace dm;

namespace {

struct storage_actor_test : test::stored_actor_fixture {
  std::shared_ptr<test::recording_sink> sink =
      std::make_shared<test::recording_sink>();
  // What the replicas heard, batch by batch, with how many answers had gone
  // out by then.
  struct heard {
    std::vector<std::string> hosts;
    std::size_t answers_before = 0;
  };
  std::vector<heard> replicas;

  storage_actor_test() {
    start_storage(
        {[this](std::shared_ptr<const std::vector<state_change>> changes) {
          heard h;
          for (const auto& change : *changes)
            h.hosts.push_back(change.host);
          h.answers_before = sink->answers.size();
          replicas.push_back(std::move(h));
        }});
    actors.run();
  }

  ~storage_actor_test() override {
    test::fail_nth_sync(0);
    actors.stop(storage_handle, timer_handle);
  }

  // A batch with `host`'s permit, carrying the answer to its call
  // (ticket `ticket`).
  persist_batch batch_for(const std::string& host, std::uint64_t ticket) {
    persist_batch batch;
    batch.changes.push_back(test::permit_change(host, ticket));
    call_result permitted;
    permitted.state = disruption_state::permitted;
    batch.replies.push_back({reply_to(sink, ticket), permitted});
    return batch;
  }
};

} // namespace

TEST_F(storage_actor_test, a_change_is_reported_saved_once_it_is_on_disk) {
  EXPECT_TRUE(
      actors.ask<bool>(storage_handle, persist_atom::value, batch_for("a", 1)));
  auto disk = dir.on_disk();
  ASSERT_EQ(disk.groups.count("G"), 1u);
  EXPECT_TRUE(disk.groups.at("G").hosts.at("a").hold->permitted);
  ASSERT_EQ(sink->answers.size(), 1u);
  EXPECT_EQ(sink->answers[0].first, 1u);
  EXPECT_EQ(sink->answers[0].second.state, disruption_state::permitted);
  EXPECT_EQ(sink->answers[0].second.error, "");
}

TEST_F(storage_actor_test, batches_queued_together_share_one_sync) {
  for (std::uint64_t i = 1; i <= 3; ++i)
    caf::anon_send(storage_handle, persist_atom::value,
                   batch_for("h" + std::to_string(i), i));
  actors.run();
  // One sync, so the replicas hear of all three at once, before any
  // client hears of its answer.
  ASSERT_EQ(replicas.size(), 1u);
  EXPECT_EQ(replicas[0].hosts, (std::vector<std::string>{"h1", "h2", "h3"}));
  EXPECT_EQ(replicas[0].answers_before, 0u);
  ASSERT_EQ(sink->answers.size(), 3u);
  for (std::uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(sink->answers[i].first, i + 1);
    EXPECT_EQ(sink->answers[i].second.state, disruption_state::permitted);
  }
  EXPECT_EQ(dir.on_disk().host_count(), 3u);
}

TEST_F(storage_actor_test, a_failed_sync_is_reported_and_the_next_one_works) {
  test::fail_nth_sync(1);
  EXPECT_FALSE(actors.ask<bool>(storage_handle, persist_atom::value,
                                batch_for("lost", 1)));
  ASSERT_EQ(sink->answers.size(), 1u);
  EXPECT_EQ(sink->answers[0].second.error, not_saved_result().error);
  EXPECT_NE(sink->answers[0].second.state, disruption_state::permitted);
  EXPECT_TRUE(replicas.empty()); // nothing unsaved reaches them
  EXPECT_EQ(dir.on_disk().host_count(), 0u);

  EXPECT_TRUE(actors.ask<bool>(storage_handle, persist_atom::value,
                               batch_for("kept", 2)));
  ASSERT_EQ(sink->answers.size(), 2u);
  EXPECT_EQ(sink->answers[1].second.state, disruption_state::permitted);
  ASSERT_EQ(replicas.size(), 1u);
  EXPECT_EQ(replicas[0].hosts, std::vector<std::string>{"kept"});
  // (The store writes the failed lines again with this sync; the group,
  // told of the failure, sends its changes again anyway.)
  EXPECT_EQ(dir.on_disk().groups.at("G").hosts.count("kept"), 1u);
}

// Finding: at a million machines the snapshot of an import of the
// original's state.json took a second to write before the service could
// answer; the storage actor now writes it as soon as it starts.
using storage_actor_import_test = test::stored_actor_fixture;

TEST_F(storage_actor_import_test, an_import_is_saved_at_once_without_a_change) {
  dir.write("state.json", R"([{"Identifier": "G", "Permitted": [
    {"Hostname": "p1", "LastRequest": "2999-01-01T00:00:00Z"}]}])");
  auto store = start_storage();
  ASSERT_TRUE(store);
  EXPECT_FALSE(dir.exists("state.snapshot"));
  actors.run();
  EXPECT_TRUE(dir.exists("state.snapshot"));
  EXPECT_FALSE(store->sync_due());
  dir.write("state.json", "[]"); // our own state is read from here on
  EXPECT_EQ(dir.on_disk().host_count(), 1u);
  actors.stop(storage_handle, timer_handle);
}
