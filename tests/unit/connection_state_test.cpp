// The connection states' allowed moves (net/io_loop.hpp).
#include <gtest/gtest.h>

#include "net/io_loop.hpp"

using namespace dm;
using s = connection_state;

TEST(connection_state, moves_follow_the_documented_table) {
  const s all[] = {s::idle,      s::handshake, s::reading,   s::awaiting,
                   s::producing, s::closing,   s::lingering, s::closed};
  for (auto to : all) {
    // Anything can end; nothing comes back from closed.
    if (to != s::closed && to != s::lingering) {
      EXPECT_TRUE(may_move(s::idle, to) || to == s::idle) << to_string(to);
    }
    EXPECT_TRUE(may_move(s::handshake, s::closed));
    EXPECT_FALSE(may_move(s::closed, to)) << to_string(to);
  }
  // Only reading begins anew in place (the next unit).
  EXPECT_TRUE(may_move(s::reading, s::reading));
  EXPECT_FALSE(may_move(s::idle, s::idle));
  // A handshake is done, fails, or is cut off; nothing is awaited in it.
  EXPECT_TRUE(may_move(s::handshake, s::idle));
  EXPECT_TRUE(may_move(s::handshake, s::closing));
  EXPECT_FALSE(may_move(s::handshake, s::awaiting));
  EXPECT_FALSE(may_move(s::handshake, s::producing));
  // An answer awaited or a body produced ends in idle, or the connection
  // ends; neither takes input meanwhile.
  for (auto from : {s::awaiting, s::producing}) {
    EXPECT_TRUE(may_move(from, s::idle));
    EXPECT_TRUE(may_move(from, s::closing));
    EXPECT_FALSE(may_move(from, s::reading));
    EXPECT_FALSE(may_move(from, s::handshake));
  }
  EXPECT_FALSE(may_move(s::awaiting, s::producing));
  // Closing closes, or lingers first (after an error answer that leaves a
  // request unread); lingering only closes, and only closing leads to it.
  for (auto to : all) {
    EXPECT_EQ(may_move(s::closing, to), to == s::closed || to == s::lingering)
        << to_string(to);
    EXPECT_EQ(may_move(s::lingering, to), to == s::closed) << to_string(to);
  }
  for (auto from : all)
    EXPECT_EQ(may_move(from, s::lingering), from == s::closing)
        << to_string(from);
}
