// The router's routes: for each machine, the group it last requested in and
// the order of that request. There is one route per machine (a million at
// scale) and far fewer groups, so each group name is held once, counted by
// the routes that name it and dropped with the last of them, and a route
// keeps a pointer to it: a route outlives its group's actor when the actor
// retires first, and its name with it (docs/performance.md, "A million
// machines: where memory and start-up time go").
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dm {

class route_table {
  // Each group name, with how many routes name it.
  using name_map = std::unordered_map<std::string, std::size_t>;

public:
  struct route {
    const std::string& group() const { return name->first; }

    name_map::value_type* name = nullptr;
    std::uint64_t seq = 0; // the router's order of the request
  };

  // A host name's hash, which the table's nodes do not keep (a hash a node
  // keeps costs 8 bytes, and 16 of malloc's: a node of 56 bytes instead of
  // 64 takes a 64-byte chunk instead of an 80-byte one). Lookups hash the
  // names they pass in a bucket again; growing the table hashes them all,
  // which the load's reserve() spares.
  struct host_hash {
    std::size_t operator()(const std::string& host) const noexcept {
      return std::hash<std::string_view>{}(host);
    }
  };
  using host_map = std::unordered_map<std::string, route, host_hash>;
  using const_iterator = host_map::const_iterator;

  route_table() = default;
  // Routes point into the table's own names: not copied.
  route_table(const route_table&) = delete;
  route_table& operator=(const route_table&) = delete;

  const_iterator find(const std::string& host) const {
    return hosts_.find(host);
  }
  const_iterator end() const { return hosts_.end(); }
  // `host` last requested in `group`, as the router's `seq`th call.
  void set(const std::string& host, const std::string& group,
           std::uint64_t seq);
  void erase(const_iterator it);
  // Room for `hosts` routes naming `groups` groups without growing.
  void reserve(std::size_t hosts, std::size_t groups);

  std::size_t size() const { return hosts_.size(); }
  // How many group names the routes hold.
  std::size_t group_count() const { return names_.size(); }

private:
  name_map::value_type* hold(const std::string& group);
  void release(name_map::value_type* name);

  name_map names_;
  host_map hosts_;
};

} // namespace dm
