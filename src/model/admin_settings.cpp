// Operator settings: what each group obeys, and the bounded audit trail.
#include "model/admin_settings.hpp"

#include <utility>

namespace dm {

group_controls
admin_settings::controls_for(const std::string& identifier) const {
  group_controls controls;
  controls.frozen = frozen;
  auto it = groups.find(identifier);
  if (it != groups.end()) {
    controls.paused = it->second.paused;
    controls.limit_override = it->second.limit_override;
    controls.windows = it->second.windows;
  }
  return controls;
}

void admin_settings::record(audit_entry entry) {
  audit.push_back(std::move(entry));
  if (audit.size() > max_audit_entries)
    audit.erase(audit.begin(),
                audit.begin() +
                    static_cast<long>(audit.size() - max_audit_entries));
}

} // namespace dm
