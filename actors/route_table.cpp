#include "actors/route_table.hpp"

namespace dm {

void route_table::set(const std::string& host, const std::string& group,
                      std::uint64_t seq) {
  auto* name = hold(group);
  auto [it, fresh] = hosts_.try_emplace(host, route{name, seq});
  if (fresh)
    return;
  // (The same group: the count went up by one above and comes down here.)
  release(it->second.name);
  it->second = route{name, seq};
}

void route_table::erase(const_iterator it) {
  auto* name = it->second.name;
  hosts_.erase(it);
  release(name);
}

void route_table::reserve(std::size_t hosts, std::size_t groups) {
  hosts_.reserve(hosts);
  names_.reserve(groups);
}

route_table::name_map::value_type* route_table::hold(const std::string& group) {
  auto it = names_.try_emplace(group, 0).first;
  ++it->second;
  return &*it;
}

void route_table::release(name_map::value_type* name) {
  if (--name->second == 0)
    names_.erase(names_.find(name->first));
}

} // namespace dm
