// Every atom the actors speak. CAF 0.17 atoms have at most 10 characters.
#pragma once

#include <caf/atom.hpp>

namespace dm {

using operate_atom = caf::atom_constant<caf::atom("operate")>;
using evict_atom = caf::atom_constant<caf::atom("evict")>;
using released_atom = caf::atom_constant<caf::atom("released")>;
using due_atom = caf::atom_constant<caf::atom("due")>;
using ready_atom = caf::atom_constant<caf::atom("ready")>;
using persist_atom = caf::atom_constant<caf::atom("persist")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;
using probe_atom = caf::atom_constant<caf::atom("probe")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using retire_atom = caf::atom_constant<caf::atom("retire")>;
using arm_atom = caf::atom_constant<caf::atom("arm")>;
using admin_atom = caf::atom_constant<caf::atom("admin")>;
using control_atom = caf::atom_constant<caf::atom("control")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using disarm_atom = caf::atom_constant<caf::atom("disarm")>;
using roster_atom = caf::atom_constant<caf::atom("roster")>;
using summary_atom = caf::atom_constant<caf::atom("summary")>;
using poll_atom = caf::atom_constant<caf::atom("poll")>;
using alerts_atom = caf::atom_constant<caf::atom("alerts")>;

} // namespace dm
