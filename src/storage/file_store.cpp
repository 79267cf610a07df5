// The state directory: state.snapshot + state.journal, both made of lines
// "<crc32 hex> <json>\n". The journal grows with each change; a compaction
// writes a fresh snapshot (tmp, fsync, rename, fsync dir) and empties it.
#include "storage/file_store.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/json_reader.hpp"
#include "files/file_io.hpp"
#include "storage/legacy_state.hpp"
#include "text/decimal.hpp"

namespace dm {

namespace {

using json = nlohmann::json;

constexpr const char* snapshot_name = "state.snapshot";
constexpr const char* journal_name = "state.journal";
constexpr const char* legacy_name = "state.json";

std::string system_error(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

// Appends one line: the CRC-32 of what `write_body` appends, in hex, a
// space, that body and "\n". The body is written in place, the checksum
// filled in after.
template <class WriteBody>
void append_checksummed(std::string& out, WriteBody&& write_body) {
  static constexpr char hex[] = "0123456789abcdef";
  const std::size_t start = out.size();
  out.append("00000000 ");
  write_body(out);
  const std::size_t body = start + 9;
  std::uint32_t crc = state_crc32(out.data() + body, out.size() - body);
  for (int i = 7; i >= 0; --i, crc >>= 4)
    out[start + static_cast<std::size_t>(i)] = hex[crc & 0xF];
  out += '\n';
}

std::string checksummed(const std::string& body) {
  std::string line;
  line.reserve(body.size() + 10);
  append_checksummed(line, [&](std::string& out) { out += body; });
  return line;
}

// Appends `text` as nlohmann's dump writes a string (no escaping of
// non-ASCII, invalid UTF-8 replaced), so lines read the same whoever wrote
// them. Printable ASCII, which names nearly always are, is copied as it
// is; anything else goes through nlohmann.
void append_json_string(std::string& out, const std::string& text) {
  bool plain = true;
  for (unsigned char c : text)
    if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') {
      plain = false;
      break;
    }
  if (!plain) {
    // Front ends refuse text that is not UTF-8; should any slip through,
    // it is written with replacement characters rather than failing.
    out += json(text).dump(-1, ' ', false, json::error_handler_t::replace);
    return;
  }
  out += '"';
  out += text;
  out += '"';
}

template <class Integer>
void append_integer(std::string& out, Integer value) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
  out.append(digits, end);
}

// The operators' settings as one JSON object: "f" frozen, "gs" the groups'
// settings ("p" paused, "o" override limit, "mw" maintenance window
// spec), "au" the audit trail ("t"
// time in ns, "w" who, "op", "tg" target, "d" detail, "r" reason).
json admin_to_json(const admin_settings& admin) {
  json groups = json::object();
  for (const auto& [id, setting] : admin.groups) {
    json g = json::object();
    if (setting.paused)
      g["p"] = true;
    if (setting.limit_override)
      g["o"] = *setting.limit_override;
    if (setting.windows)
      g["mw"] = setting.windows->spec();
    groups[id] = std::move(g);
  }
  json audit = json::array();
  for (const auto& entry : admin.audit)
    audit.push_back({{"t", entry.when.time_since_epoch().count()},
                     {"w", entry.who},
                     {"op", entry.operation},
                     {"tg", entry.target},
                     {"d", entry.detail},
                     {"r", entry.reason}});
  return {
      {"f", admin.frozen}, {"gs", std::move(groups)}, {"au", std::move(audit)}};
}

bool admin_from_json(const json& in, admin_settings& admin) {
  if (!in.is_object() || !in.contains("f") || !in["f"].is_boolean() ||
      !in.contains("gs") || !in["gs"].is_object() || !in.contains("au") ||
      !in["au"].is_array())
    return false;
  admin.frozen = in["f"].get<bool>();
  for (const auto& [id, g] : in["gs"].items()) {
    if (!g.is_object())
      return false;
    group_admin setting;
    if (g.contains("p")) {
      if (!g["p"].is_boolean())
        return false;
      setting.paused = g["p"].get<bool>();
    }
    if (g.contains("o")) {
      if (!g["o"].is_number_unsigned() || g["o"].get<std::uint64_t>() == 0)
        return false;
      setting.limit_override = g["o"].get<std::uint64_t>();
    }
    if (g.contains("mw")) {
      // (A spec the tz database no longer reads cannot be applied.)
      std::string error;
      if (!g["mw"].is_string() || !(setting.windows = window_schedule::parse(
                                        g["mw"].get<std::string>(), error)))
        return false;
    }
    if (!setting.empty())
      admin.groups[id] = setting;
  }
  for (const auto& e : in["au"]) {
    auto text = [&e](const char* key) {
      return e.contains(key) && e[key].is_string();
    };
    if (!e.is_object() || !e.contains("t") || !e["t"].is_number_integer() ||
        !text("w") || !text("op") || !text("tg") || !text("d") || !text("r"))
      return false;
    audit_entry entry;
    entry.when =
        admin_time{std::chrono::nanoseconds(e["t"].get<std::int64_t>())};
    entry.who = e["w"].get<std::string>();
    entry.operation = e["op"].get<std::string>();
    entry.target = e["tg"].get<std::string>();
    entry.detail = e["d"].get<std::string>();
    entry.reason = e["r"].get<std::string>();
    admin.record(std::move(entry));
  }
  return true;
}

// Reads one record; false with `why` when it is not one this version
// writes, or holds a time outside the storable range.
bool change_from_json(const json& in, state_change& change, std::string& why) {
  why = "has a record this version cannot read";
  if (in.is_object() && in.contains("a")) {
    admin_settings admin;
    if (!admin_from_json(in["a"], admin))
      return false;
    change.admin = std::move(admin);
    return true;
  }
  if (!in.is_object() || !in.contains("g") || !in["g"].is_string())
    return false;
  change.group = in["g"].get<std::string>();
  if (in.contains("l")) {
    if (!in["l"].is_number_unsigned())
      return false;
    change.limit = in["l"].get<std::uint64_t>();
    if (in.contains("mw")) {
      if (!in["mw"].is_string())
        return false;
      change.windows = in["mw"].get<std::string>();
    }
    return true;
  }
  if (!in.contains("h") || !in["h"].is_string())
    return false;
  change.host = in["h"].get<std::string>();
  if (change.host.empty())
    return false;
  auto read_time = [&](const char* key, timestamp& out) {
    out = timestamp{std::chrono::nanoseconds(in[key].get<std::int64_t>())};
    if (storable_time(out))
      return true;
    why = std::string("has a time out of range (\"") + key +
          "\": " + std::to_string(out.time_since_epoch().count()) + ")";
    return false;
  };
  if (in.contains("t")) {
    if (!in["t"].is_number_integer() || !in.contains("p") ||
        !in["p"].is_boolean() || !in.contains("q") ||
        !in["q"].is_number_unsigned())
      return false;
    holding hold;
    hold.permitted = in["p"].get<bool>();
    if (!read_time("t", hold.last_request))
      return false;
    hold.queue_seq = in["q"].get<std::uint64_t>();
    change.entry.hold = hold;
  }
  if (in.contains("wd")) {
    if (!in["wd"].is_number_integer() || !in.contains("wu") ||
        !in["wu"].is_string())
      return false;
    waiting wait;
    if (!read_time("wd", wait.deadline))
      return false;
    wait.url = in["wu"].get<std::string>();
    change.entry.wait = wait;
  }
  return true;
}

// The first bytes of a line, for an error that names the record.
std::string excerpt(std::string_view body) {
  constexpr std::size_t most = 80;
  std::string out(body.substr(0, most));
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
      c = '?';
  if (body.size() > most)
    out += "...";
  return out;
}

// Splits `text` into checksummed lines and applies them. Returns the byte
// length of the whole good lines; with `allow_torn_tail`, a last line
// without its newline (a write cut short) sets `torn` and is left out.
// A complete line is never taken for a torn one: if it is damaged or
// unknown, the file is refused, naming the line.
bool replay_lines(const std::string& text, const std::string& name,
                  stored_state& state, size_t& good_bytes, bool& torn,
                  size_t& records, std::string& error, bool allow_torn_tail) {
  size_t pos = 0;
  size_t line_number = 0;
  good_bytes = 0;
  torn = false;
  while (pos < text.size()) {
    ++line_number;
    size_t end = text.find('\n', pos);
    auto fail = [&](const std::string& why) {
      error = name + ": line " + std::to_string(line_number) + " " + why;
      return false;
    };
    if (end == std::string::npos) {
      if (allow_torn_tail) {
        torn = true;
        return true;
      }
      return fail("is incomplete");
    }
    std::string_view line(text.data() + pos, end - pos);
    state_change change;
    std::string why;
    switch (decode_state_line(line, change, why)) {
    case line_kind::damaged:
      return fail(why);
    case line_kind::marker:
      break; // Header and trailer lines of a snapshot.
    case line_kind::change:
      apply_change(state, change);
      ++records;
      break;
    }
    pos = end + 1;
    good_bytes = pos;
  }
  return true;
}

// Reads a state file into `out`: false with a reason when it cannot be
// read, is not a regular file or is too large; `exists` false when absent.
bool read_state_file(const std::string& path, std::uint64_t limit,
                     std::string& out, bool& exists, std::string& error) {
  std::string why;
  auto size_limit = static_cast<std::size_t>(
      std::min<std::uint64_t>(limit, std::numeric_limits<std::size_t>::max()));
  switch (read_whole_file(path, size_limit, out, why)) {
  case read_status::ok:
    exists = true;
    return true;
  case read_status::missing:
    exists = false;
    return true;
  case read_status::failed:
    break;
  }
  exists = false;
  error = "cannot read " + path + ": " + why;
  return false;
}

} // namespace

bool read_host_record(std::string_view body, state_change& change) {
  json_reader in(body);
  if (!in.begin_object())
    return false;
  enum : unsigned { g = 1, h = 2, p = 4, q = 8, t = 16, wd = 32, wu = 64 };
  unsigned seen = 0;
  state_change out;
  bool permitted = false;
  std::uint64_t queue_seq = 0;
  std::int64_t last_request = 0, deadline = 0;
  std::string url, key;
  std::string_view token;
  while (in.next_member(key)) {
    unsigned member = 0;
    bool ok = false;
    if (key == "g") {
      member = g;
      ok = in.read_string(out.group);
    } else if (key == "h") {
      member = h;
      ok = in.read_string(out.host);
    } else if (key == "p") {
      member = p;
      ok = in.read_bool(permitted);
    } else if (key == "q") {
      member = q;
      ok = in.read_number(token) && parse_decimal(token, queue_seq);
    } else if (key == "t") {
      member = t;
      ok = in.read_number(token) && parse_decimal(token, last_request);
    } else if (key == "wd") {
      member = wd;
      ok = in.read_number(token) && parse_decimal(token, deadline);
    } else if (key == "wu") {
      member = wu;
      ok = in.read_string(url);
    }
    if (!ok)
      return false;
    seen |= member; // (given twice, the last counts, as in a whole reading)
  }
  if (in.failed() || !in.at_end() || (seen & (g | h)) != (g | h) ||
      out.host.empty())
    return false;
  unsigned hold = seen & (p | q | t), wait = seen & (wd | wu);
  if ((hold != 0 && hold != (p | q | t)) || (wait != 0 && wait != (wd | wu)))
    return false;
  if (hold != 0) {
    holding held{permitted, timestamp{std::chrono::nanoseconds(last_request)},
                 queue_seq};
    if (!storable_time(held.last_request))
      return false;
    out.entry.hold = held;
  }
  if (wait != 0) {
    waiting w;
    w.deadline = timestamp{std::chrono::nanoseconds(deadline)};
    if (!storable_time(w.deadline))
      return false;
    w.url = std::move(url);
    out.entry.wait = std::move(w);
  }
  change = std::move(out);
  return true;
}

namespace {

line_kind decode_line(std::string_view line, state_change& change,
                      std::string& why, bool in_place) {
  if (line.size() < 10 || line[8] != ' ') {
    why = "is malformed";
    return line_kind::damaged;
  }
  std::uint32_t expected = 0;
  for (size_t i = 0; i < 8; ++i) {
    char c = line[i];
    int v = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                     : -1;
    if (v < 0) {
      why = "is malformed";
      return line_kind::damaged;
    }
    expected = expected << 4 | static_cast<std::uint32_t>(v);
  }
  auto body = line.substr(9);
  if (state_crc32(body.data(), body.size()) != expected) {
    why = "is corrupt (checksum mismatch)";
    return line_kind::damaged;
  }
  // Nearly every line is a machine's entry: read in place, without a
  // document (docs/performance.md, "A million machines: where memory and
  // start-up time go"); anything else, or anything unusual, is read whole.
  if (in_place && read_host_record(body, change))
    return line_kind::change;
  json value = json::parse(body.begin(), body.end(), nullptr, false);
  if (value.is_object() && (value.contains("format") || value.contains("end")))
    return line_kind::marker;
  if (!change_from_json(value, change, why)) {
    why += ": " + excerpt(body);
    return line_kind::damaged;
  }
  return line_kind::change;
}

} // namespace

line_kind decode_state_line(std::string_view line, state_change& change,
                            std::string& why) {
  return decode_line(line, change, why, true);
}

line_kind decode_state_line_whole(std::string_view line, state_change& change,
                                  std::string& why) {
  return decode_line(line, change, why, false);
}

std::uint32_t state_crc32(const char* data, std::size_t size) {
  static const auto table = make_crc_table();
  std::uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i)
    c = table[(c ^ static_cast<unsigned char>(data[i])) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

// The body is the JSON object nlohmann would write for the change, keys
// in its (sorted) order.
void append_state_line(std::string& out, const state_change& change) {
  if (change.admin) {
    // Rare and small: nlohmann writes it.
    append_checksummed(out, [&change](std::string& body) {
      body += json{{"a", admin_to_json(*change.admin)}}.dump(
          -1, ' ', false, json::error_handler_t::replace);
    });
    return;
  }
  append_checksummed(out, [&change](std::string& body) {
    body.append("{\"g\":");
    append_json_string(body, change.group);
    if (change.host.empty()) {
      body.append(",\"l\":");
      append_integer(body, change.limit);
      if (!change.windows.empty()) {
        body.append(",\"mw\":");
        append_json_string(body, change.windows);
      }
    } else {
      body.append(",\"h\":");
      append_json_string(body, change.host);
      if (const auto& hold = change.entry.hold) {
        body.append(hold->permitted ? ",\"p\":true,\"q\":"
                                    : ",\"p\":false,\"q\":");
        append_integer(body, hold->queue_seq);
        body.append(",\"t\":");
        append_integer(body, hold->last_request.time_since_epoch().count());
      }
      if (const auto& wait = change.entry.wait) {
        body.append(",\"wd\":");
        append_integer(body, wait->deadline.time_since_epoch().count());
        body.append(",\"wu\":");
        append_json_string(body, wait->url);
      }
    }
    body += '}';
  });
}

std::string encode_state_line(const state_change& change) {
  std::string line;
  append_state_line(line, change);
  return line;
}

file_store::file_store(file_store_options options)
    : options_(std::move(options)) {
  // nop
}

file_store::~file_store() {
  if (journal_fd_ >= 0)
    ::close(journal_fd_);
}

std::unique_ptr<file_store> file_store::open(const file_store_options& options,
                                             std::string& error,
                                             std::vector<std::string>& notes) {
  std::unique_ptr<file_store> store(new file_store(options));
  const std::string& dir = options.directory;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    error = system_error("cannot create state directory " + dir);
    return nullptr;
  }
  std::string snapshot_text;
  std::string journal_text;
  bool snapshot_exists = false;
  bool journal_exists = false;
  if (!read_state_file(dir + "/" + snapshot_name, options.max_file_bytes,
                       snapshot_text, snapshot_exists, error) ||
      !read_state_file(dir + "/" + journal_name, options.max_file_bytes,
                       journal_text, journal_exists, error))
    return nullptr;
  stored_state state;
  if (snapshot_exists) {
    size_t good = 0;
    size_t records = 0;
    bool torn = false;
    if (!replay_lines(snapshot_text, dir + "/" + snapshot_name, state, good,
                      torn, records, error, false))
      return nullptr;
    auto trailer = snapshot_text.rfind("{\"end\":");
    if (snapshot_text.empty() || trailer == std::string::npos) {
      error = dir + "/" + snapshot_name +
              ": no end marker (the file was cut short)";
      return nullptr;
    }
    store->snapshot_size_ = snapshot_text.size();
  }
  if (journal_exists) {
    size_t good = 0;
    size_t records = 0;
    bool torn = false;
    if (!replay_lines(journal_text, dir + "/" + journal_name, state, good, torn,
                      records, error, true))
      return nullptr;
    if (torn)
      notes.push_back(dir + "/" + journal_name + ": dropped " +
                      std::to_string(journal_text.size() - good) +
                      " bytes of a last line cut short by a crash");
    store->journal_size_ = good;
  }
  bool import_legacy = false;
  // Nothing of our own yet (an empty journal too, as a start that failed
  // or died before its first snapshot leaves): the original's file, if any.
  if (!snapshot_exists && store->journal_size_ == 0) {
    std::string legacy_text;
    bool legacy_exists = false;
    if (!read_state_file(dir + "/" + legacy_name, options.max_file_bytes,
                         legacy_text, legacy_exists, error))
      return nullptr;
    if (legacy_exists) {
      auto now = timestamp{std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::system_clock::now().time_since_epoch())};
      auto legacy = parse_legacy_state(legacy_text, now, error);
      if (!legacy) {
        error = dir + "/" + legacy_name + ": " + error;
        return nullptr;
      }
      state = std::move(*legacy);
      import_legacy = true;
      notes.push_back("imported " + std::to_string(state.host_count()) +
                      " machines from " + dir + "/" + legacy_name);
    }
  }
  // Groups left without machines (older versions kept their limit, and a
  // check could make one) are not kept.
  forget_empty_groups(state);
  store->loaded_ = state;
  store->loaded_hosts_ = state.host_count();
  store->loaded_groups_ = state.groups.size();
  store->mirror_ = std::move(state);
  // An import is saved as a snapshot before the journal's first line (at
  // the first sync, which the storage actor makes at once), not before the
  // service answers: until then a restart imports again
  // (docs/semantics.md, "Durability").
  store->snapshot_due_ = import_legacy;
  std::string journal_path = dir + "/" + journal_name;
  store->journal_fd_ =
      ::open(journal_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (store->journal_fd_ < 0) {
    error = system_error("cannot open " + journal_path);
    return nullptr;
  }
  if (::ftruncate(store->journal_fd_,
                  static_cast<off_t>(store->journal_size_)) != 0 ||
      ::lseek(store->journal_fd_, static_cast<off_t>(store->journal_size_),
              SEEK_SET) < 0) {
    error = system_error("cannot prepare " + journal_path);
    return nullptr;
  }
  if (!journal_exists && !sync_directory(dir, error))
    return nullptr;
  return store;
}

bool file_store::append(const std::vector<state_change>& changes,
                        std::string& error) {
  if (!storable_changes(changes, error))
    return false;
  for (const auto& change : changes) {
    if (backlog_)
      add_to_backlog(change);
    else
      append_state_line(pending_, change);
    apply_change(mirror_, change);
    // (A group's limit line follows its hosts' lines whenever the group
    // may have been dropped: see the group actor.)
    if (!change.host.empty())
      forget_group_if_empty(mirror_, change.group);
  }
  pending_count_ += changes.size();
  return true;
}

void file_store::add_to_backlog(const state_change& change) {
  // (The operators' settings are one entry of their own.)
  auto [slot, added] = backlog_index_.try_emplace(
      std::make_tuple(change.admin.has_value(), change.group, change.host),
      backlog_changes_.size());
  if (added)
    backlog_changes_.push_back(change);
  else
    backlog_changes_[slot->second] = change;
}

void file_store::enter_backlog() {
  if (backlog_)
    return;
  // Our own whole lines, read back as a restart would read them.
  std::size_t pos = 0;
  while (pos < pending_.size()) {
    auto end = pending_.find('\n', pos);
    auto body = std::string_view(pending_).substr(pos + 9, end - pos - 9);
    json value = json::parse(body.begin(), body.end(), nullptr, false);
    state_change change;
    std::string why;
    if (change_from_json(value, change, why))
      add_to_backlog(change);
    pos = end + 1;
  }
  pending_.clear();
  pending_.shrink_to_fit();
  backlog_ = true;
}

bool file_store::sync(std::string& error) {
  if (snapshot_due_) {
    if (!write_snapshot(error)) {
      if (pending_count_ > 0)
        enter_backlog(); // (what waits stays one change per machine)
      return false;
    }
    snapshot_due_ = false;
  }
  if (pending_count_ > 0) {
    std::string backlog_text;
    if (backlog_)
      for (const auto& change : backlog_changes_)
        append_state_line(backlog_text, change);
    const std::string& text = backlog_ ? backlog_text : pending_;
    auto failed = [&](const char* what) {
      error = system_error(std::string(what) + " " + options_.directory + "/" +
                           journal_name);
      // Cut off what a failed write may have left, so the journal stays
      // whole lines; what is pending is written at the next sync, one
      // line per machine from now on.
      if (::ftruncate(journal_fd_, static_cast<off_t>(journal_size_)) == 0)
        ::lseek(journal_fd_, static_cast<off_t>(journal_size_), SEEK_SET);
      enter_backlog();
      return false;
    };
    if (!write_all(journal_fd_, text.data(), text.size()))
      return failed("cannot write");
    if (::fdatasync(journal_fd_) != 0)
      return failed("cannot sync");
    journal_size_ += text.size();
    changes_written_ += backlog_ ? backlog_changes_.size() : pending_count_;
    pending_.clear();
    pending_count_ = 0;
    backlog_ = false;
    backlog_changes_.clear();
    backlog_index_.clear();
  }
  maybe_compact(error);
  return true;
}

std::chrono::steady_clock::time_point file_store::now() const {
  return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
}

void file_store::maybe_compact(std::string& error) {
  if (journal_size_ <= options_.compact_min_bytes ||
      journal_size_ <= 2 * snapshot_size_)
    return;
  auto started = now();
  if (compaction_failing_ && started < next_compaction_)
    return;
  std::string compact_error;
  // A failed compaction loses nothing: the journal still holds it all.
  if (compact(compact_error)) {
    compaction_failing_ = false;
    compact_backoff_ = std::chrono::milliseconds(0);
    return;
  }
  ++compaction_failures_;
  compaction_failing_ = true;
  compact_backoff_ =
      compact_backoff_.count() == 0
          ? options_.compact_retry_first
          : std::min(compact_backoff_ * 2, options_.compact_retry_cap);
  next_compaction_ = started + compact_backoff_;
  error = compact_error + " (next attempt in " +
          std::to_string(compact_backoff_.count()) + " ms)";
}

store_health file_store::health() const {
  store_health health;
  health.pending_changes = pending_changes();
  health.changes_written = changes_written_;
  health.compaction_failing = compaction_failing_;
  health.compaction_failures = compaction_failures_;
  health.compaction_backoff = compact_backoff_;
  return health;
}

bool file_store::write_snapshot(std::string& error) {
  const std::string& dir = options_.directory;
  std::string text = checksummed(
      json{{"format", "disruption-manager-state"}, {"version", 1}}.dump());
  std::size_t records = 0;
  const auto& admin = mirror_.admin;
  if (admin.frozen || !admin.groups.empty() || !admin.audit.empty()) {
    append_state_line(text, state_change::admin_update(admin));
    ++records;
  }
  for (const auto& [id, group] : mirror_.groups) {
    if (group.hosts.empty())
      continue; // (None at run time; kept out should one be there.)
    if (group.limit > 1 || !group.windows.empty()) {
      append_state_line(
          text, state_change::limit_update(id, group.limit, group.windows));
      ++records;
    }
    for (const auto& [host, entry] : group.hosts) {
      append_state_line(text, state_change::host_update(id, host, entry));
      ++records;
    }
  }
  text += checksummed(json{{"end", records}}.dump());
  if (!write_file_atomically(dir + "/" + snapshot_name, text, {}, error))
    return false;
  snapshot_size_ = text.size();
  return true;
}

bool file_store::compact(std::string& error) {
  if (!write_snapshot(error))
    return false;
  // The snapshot now holds everything; replaying the journal over it again
  // after a crash here would be harmless, as every line is a whole entry.
  std::string path = options_.directory + "/" + journal_name;
  if (::ftruncate(journal_fd_, 0) != 0) {
    error = system_error("cannot empty " + path);
    return false;
  }
  // Empty from here on, whatever the sync says: a later failed write cuts
  // the journal back to this size, never past it.
  journal_size_ = 0;
  if (::lseek(journal_fd_, 0, SEEK_SET) < 0 || ::fdatasync(journal_fd_) != 0) {
    error = system_error("cannot empty " + path);
    return false;
  }
  ++compactions_;
  return true;
}

stored_state file_store::take_loaded() {
  stored_state out = std::move(loaded_);
  loaded_ = stored_state{};
  return out;
}

std::string file_store::describe() const {
  return "state directory " + options_.directory + " (" +
         std::to_string(loaded_hosts_) + " machines in " +
         std::to_string(loaded_groups_) + " groups loaded)";
}

} // namespace dm
