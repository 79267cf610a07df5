// reply_to: one answer per call, whoever holds it; an error when dropped.
#include <gtest/gtest.h>

#include "actors/messages.hpp"
#include "actors/reply.hpp"
#include "tests/support/recording_sink.hpp"

namespace dm {
namespace {

using test::recording_sink;

TEST(reply_to, delivers_the_first_answer_only) {
  auto sink = std::make_shared<recording_sink>();
  {
    reply_to reply(sink, 42);
    reply_to copy = reply;
    call_result permitted;
    permitted.state = disruption_state::permitted;
    copy.answer(permitted);
    reply.answer(call_result{}); // too late: the call has its answer
  }
  ASSERT_EQ(sink->answers.size(), 1u);
  EXPECT_EQ(sink->answers[0].first, 42u);
  EXPECT_EQ(sink->answers[0].second.state, disruption_state::permitted);
  EXPECT_TRUE(sink->answers[0].second.error.empty());
}

TEST(reply_to, a_dropped_call_is_answered_with_an_error) {
  auto sink = std::make_shared<recording_sink>();
  {
    disruption_call call;
    call.reply = reply_to(sink, 9);
    disruption_call copy = call; // as a copied message would hold it
    EXPECT_TRUE(sink->answers.empty());
  }
  ASSERT_EQ(sink->answers.size(), 1u);
  EXPECT_EQ(sink->answers[0].first, 9u);
  EXPECT_EQ(sink->answers[0].second.state, disruption_state::denied);
  EXPECT_NE(sink->answers[0].second.error.find("internal error"),
            std::string::npos);
}

TEST(reply_to, an_empty_one_answers_nothing) {
  reply_to none;
  EXPECT_FALSE(none);
  none.answer(call_result{}); // no target: nothing to do, no crash
}

} // namespace
} // namespace dm
