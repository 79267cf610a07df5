// An actor system under CAF's testing scheduler, for the actors' unit tests:
// messages are handled only when a test runs them, and time moves only when
// a test advances the clock, so expiry and ready waits need no sleeping.
#pragma once

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include <chrono>
#include <memory>
#include <utility>

namespace dm::test {

class virtual_time_system {
public:
  virtual_time_system() { boot(); }
  ~virtual_time_system() { run(); }

  caf::actor_system& system() { return *sys_; }
  caf::scheduler::test_coordinator& scheduler() { return *sched_; }
  caf::actor_clock::time_point now() { return sched_->clock().now(); }

  // Handles every message due, and those that handling sends.
  void run() { sched_->run(); }

  // Moves the clock forward in steps of at most `step`, running what each
  // step made due, so timers set while handling earlier ones fire in turn.
  void advance(caf::timespan d, caf::timespan step = std::chrono::seconds(1)) {
    while (d > caf::timespan{0}) {
      auto now = std::min(d, step);
      sched_->clock().advance_time(now);
      run();
      d -= now;
    }
  }

  // Sends exit to each of `handles` that is set, empties them, and runs
  // until they are gone.
  template <class... Handles>
  void stop(Handles&... handles) {
    auto stop_one = [](auto& handle) {
      if (handle)
        caf::anon_send_exit(handle, caf::exit_reason::user_shutdown);
      handle = nullptr;
    };
    (stop_one(handles), ...);
    run();
  }

  // A new system whose clock goes on from this one's: the restart of a
  // process. Actors of the old one must be gone (sent exit) before.
  void restart() {
    run();
    auto clock_before = now();
    sys_.reset();
    cfg_.reset();
    boot();
    sched_->clock().current_time = clock_before;
  }

  // Asks `to` and runs the system until it answers; a failed test (and a
  // default value) when it answers with an error or not at all.
  template <class Result, class Handle, class... Ts>
  Result ask(const Handle& to, Ts&&... xs) {
    caf::scoped_actor self{*sys_};
    // (No timeout: a request timeout would be one more timer in the clock.)
    auto handle = self->request(to, caf::infinite, std::forward<Ts>(xs)...);
    run();
    Result result{};
    if (self->mailbox().empty()) {
      ADD_FAILURE() << "no answer";
      return result;
    }
    handle.receive([&](Result& r) { result = std::move(r); },
                   [&](caf::error& e) { ADD_FAILURE() << sys_->render(e); });
    return result;
  }

private:
  void boot() {
    cfg_ = std::make_unique<caf::actor_system_config>();
    cfg_->set("scheduler.policy", caf::atom("testing"));
    cfg_->set("logger.file-verbosity", caf::atom("quiet"));
    cfg_->set("logger.console", caf::atom("none"));
    sys_ = std::make_unique<caf::actor_system>(*cfg_);
    sched_ =
        &dynamic_cast<caf::scheduler::test_coordinator&>(sys_->scheduler());
  }

  std::unique_ptr<caf::actor_system_config> cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  caf::scheduler::test_coordinator* sched_ = nullptr;
};

} // namespace dm::test
