// Which groups the firing alerts block.
#include "model/alert_blocking.hpp"

#include <tuple>

namespace dm {

bool operator<(const blocking_alert& a, const blocking_alert& b) {
  // Alerts for every group (no label) first.
  return std::forward_as_tuple(a.alert, a.group) <
         std::forward_as_tuple(b.alert, b.group);
}

bool alert_blocking::blocks(const std::string& group) const {
  if (trouble_blocks)
    return true;
  for (const auto& a : alerts)
    if (!a.group || *a.group == group)
      return true;
  return false;
}

} // namespace dm
