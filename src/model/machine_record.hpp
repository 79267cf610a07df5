// The machine record (Dominator's mdb.Machine) and the request and state
// vocabulary shared by every protocol front end and the group logic.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dm {

// mdb.AwsMetadata: present only when the record came from an AWS data source.
struct aws_metadata {
  std::string account_id;
  std::string account_name;
  std::string instance_id;
  std::string region;
  std::map<std::string, std::string> tags;

  friend bool operator==(const aws_metadata& a, const aws_metadata& b) {
    return a.account_id == b.account_id && a.account_name == b.account_name &&
           a.instance_id == b.instance_id && a.region == b.region &&
           a.tags == b.tags;
  }
};

// mdb.Machine. Field names on the wire are the Go names in the comments.
struct machine_record {
  std::string hostname;                    // Hostname
  std::string data_source_identifier;      // DataSourceIdentifier
  std::string data_source_type;            // DataSourceType
  std::string ip_address;                  // IpAddress
  std::string location;                    // Location
  std::string required_image;              // RequiredImage
  std::string planned_image;               // PlannedImage
  bool disable_updates = false;            // DisableUpdates
  std::string owner_group;                 // OwnerGroup
  std::vector<std::string> owner_groups;   // OwnerGroups
  std::vector<std::string> owner_users;    // OwnerUsers
  std::map<std::string, std::string> tags; // Tags
  std::optional<aws_metadata> aws;         // AwsMetadata (a pointer in Go)

  friend bool operator==(const machine_record& a, const machine_record& b) {
    return a.hostname == b.hostname &&
           a.data_source_identifier == b.data_source_identifier &&
           a.data_source_type == b.data_source_type &&
           a.ip_address == b.ip_address && a.location == b.location &&
           a.required_image == b.required_image &&
           a.planned_image == b.planned_image &&
           a.disable_updates == b.disable_updates &&
           a.owner_group == b.owner_group && a.owner_groups == b.owner_groups &&
           a.owner_users == b.owner_users && a.tags == b.tags && a.aws == b.aws;
  }
};

// Why `hostname` cannot be a record's Hostname, or empty when it can. It is
// required, and it may hold no control character (C0, DEL or C1): the name
// is looked up for the self-only rule, where a NUL would end the name the
// resolver sees (`127.0.0.1\0victim` would pass as 127.0.0.1), and shown on
// pages and in logs. Every front end refuses such a record as it arrives,
// with this reason (docs/protocol.md).
std::string hostname_error(std::string_view hostname);

// The first control character (C0, DEL or C1) in UTF-8 `text`, as
// "control character U+0000", or empty when there is none; the rule
// hostname_error applies, for every name a front end keeps.
std::string control_character_error(std::string_view text);

// disruptionmanager request kinds; the numbers are the gob/JSON wire values.
enum class request_kind : std::uint8_t { check = 0, request = 1, cancel = 2 };

// sub.DisruptionState; the numbers are the gob wire values.
enum class disruption_state : std::uint8_t {
  anytime = 0,
  permitted = 1,
  requested = 2,
  denied = 3,
};

// Lower-case wire names ("check", "permitted", ...).
std::string_view to_string(request_kind kind);
std::string_view to_string(disruption_state state);

// Parses a wire name; nullopt for anything else.
std::optional<request_kind> parse_request_kind(std::string_view name);
std::optional<disruption_state> parse_disruption_state(std::string_view name);

} // namespace dm
