// Resolves host names on its own threads, with a short cache, so a slow
// DNS answer never stalls an I/O thread or an actor.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace dm {

class host_resolver {
public:
  // Called on a resolver thread: the addresses, or an error text.
  using callback = std::function<void(std::vector<std::string> addresses,
                                      std::string error)>;

  explicit host_resolver(std::size_t threads = 2,
                         std::chrono::seconds ttl = std::chrono::seconds(30));
  ~host_resolver();
  host_resolver(const host_resolver&) = delete;
  host_resolver& operator=(const host_resolver&) = delete;

  // Resolves as Go's net.LookupHost does (see answer_without_lookup);
  // `done` may run on the calling thread when no lookup is needed.
  void resolve(std::string hostname, callback done);

private:
  struct cached {
    std::vector<std::string> addresses;
    std::string error;
    std::chrono::steady_clock::time_point expires;
  };
  void work();

  std::chrono::seconds ttl_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<std::string, callback>> jobs_;
  std::unordered_map<std::string, cached> cache_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// "::ffff:10.1.2.3" -> "10.1.2.3"; other text unchanged.
std::string normalize_address(std::string address);

// What net.LookupHost gives for `name`.
struct lookup_answer {
  std::vector<std::string> addresses;
  std::string error; // "lookup NAME: no such host"; empty on success
};

// The answer for `name` when it is not a name to look up, as Go gives it;
// nullopt for a name to hand to getaddrinfo. Go's net.ParseIP accepts only
// full dotted-decimal IPv4 without leading zeros and IPv6 literals (with a
// zone); such a literal is its own answer. Every other name goes to the
// hosts file and DNS as a name, where glibc's getaddrinfo would read
// `127.1`, `0177.0.0.1`, `2130706433` or `0x7f.1` as numbers; no such name
// exists, so they, names with a colon, and names holding white space or
// control characters (a NUL would end the name getaddrinfo sees) get Go's
// "no such host" without a lookup. See docs/protocol.md.
std::optional<lookup_answer> answer_without_lookup(std::string_view name);

} // namespace dm
