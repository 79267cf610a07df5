// Client calls as the front ends hand them to the actors, for actor tests:
// built from a machine record by make_disruption_call, with a reply_to whose
// answer the test reads back.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "actors/messages.hpp"
#include "frontend/call_builder.hpp"
#include "tests/support/call_names.hpp"
#include "tests/support/recording_sink.hpp"
#include "tests/support/virtual_time_system.hpp"

namespace dm::test {

// A call for `host`; its group is "G" unless `tags` name one.
inline disruption_call call_for(request_kind kind, const std::string& host,
                                std::map<std::string, std::string> tags,
                                const std::shared_ptr<recording_sink>& sink,
                                std::uint64_t ticket = 7) {
  machine_record m;
  m.hostname = host;
  m.tags = std::move(tags);
  m.tags.emplace("DisruptionManagerGroupIdentifier", "G");
  auto call = make_disruption_call(kind, m);
  call.reply = reply_to(sink, ticket);
  return call;
}

// The one answer `sink` holds, as the client reads it; a failed test when
// there is none, more than one, or an error.
inline disruption_state only_answer(const recording_sink& sink,
                                    std::uint64_t ticket = 7) {
  if (sink.answers.size() != 1) {
    ADD_FAILURE() << sink.answers.size() << " answers to one call";
    return disruption_state::anytime;
  }
  EXPECT_EQ(sink.answers[0].first, ticket);
  EXPECT_EQ(sink.answers[0].second.error, "");
  return sink.answers[0].second.state;
}

// Sends the call to `to` (a router or a group), runs the actors, and
// returns the one answer the client gets.
template <class Handle>
disruption_state answer_of(virtual_time_system& actors, const Handle& to,
                           request_kind kind, const std::string& host,
                           std::map<std::string, std::string> tags) {
  auto sink = std::make_shared<recording_sink>();
  caf::anon_send(to, operate_atom::value,
                 call_for(kind, host, std::move(tags), sink));
  actors.run();
  return only_answer(*sink);
}

} // namespace dm::test
