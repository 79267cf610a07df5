// Go-style command-line flags: -name=value, -name value, --name=value,
// booleans as -name or -name=false, defaults from /etc/<program>/
// flags.default and flags.extra (one name=value per line), -h for help.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace dm {

// An unsigned integer as Go's strconv.ParseUint(text, 0, 64) reads it
// (what flag.Uint takes): decimal, 0x hex, 0o or leading-0 octal, 0b
// binary, "_" between digits. False with `error` otherwise.
bool parse_go_uint(const std::string& text, std::uint64_t& out,
                   std::string& error);

// A signed integer as Go's strconv.ParseInt(text, 0, 64) reads it (what
// flag.Int takes): an optional sign, then what parse_go_uint reads.
bool parse_go_int(const std::string& text, std::int64_t& out,
                  std::string& error);

// A byte count as Dominator's flagutil.Size reads it: decimal digits, then
// optionally one of EiB PiB TiB GiB MiB KiB E P T G M K B (powers of 1024)
// or EB PB TB GB MB kB (powers of 1000). False with `error` otherwise.
bool parse_size(const std::string& text, std::uint64_t& out,
                std::string& error);
// As flagutil.Size prints: the largest binary unit dividing the value
// exactly ("10MiB", "0B", "1500B").
std::string format_size(std::uint64_t bytes);

class flag_set {
public:
  explicit flag_set(std::string program);

  void add_string(const std::string& name, std::string* target,
                  const std::string& help);
  void add_uint(const std::string& name, std::uint64_t* target,
                const std::string& help);
  void add_bool(const std::string& name, bool* target, const std::string& help);
  void add_duration(const std::string& name, std::chrono::nanoseconds* target,
                    const std::string& help);
  void add_int(const std::string& name, std::int64_t* target,
               const std::string& help);
  // A byte count (parse_size), shown as "value" in the usage, as Go shows
  // a flag.Var.
  void add_size(const std::string& name, std::uint64_t* target,
                const std::string& help);
  // A comma-separated list (flagutil.StringList and StringSet): each
  // setting replaces the list; "" is the empty list.
  void add_list(const std::string& name, std::vector<std::string>* target,
                const std::string& help);
  // A boolean that acts once set (Go's flag.BoolFunc, as -version): parsing
  // stops there, and action_requested() names it.
  void add_action(const std::string& name, const std::string& help);

  // Reads name=value lines from a file if it exists; false with `error` on a
  // bad line or unknown name.
  bool load_file(const std::string& path, std::string& error);
  // `dir`/flags.default, then `dir`/flags.extra, as the original's
  // loadflags reads a daemon's (stopping at an action flag).
  bool load_files(const std::string& dir, std::string& error);

  // Parses argv; leaves positional arguments in `args`. Returns false with
  // `error` set on a bad flag; sets `help_requested` for -h/-help.
  bool parse(int argc, const char* const* argv, std::string& error);

  bool help_requested() const { return help_requested_; }
  // The action flag given (empty: none); parsing stopped at it.
  const std::string& action_requested() const { return action_; }
  // True when the flag was given on the command line or in a file, even
  // with its default value (Go's flag.Visit).
  bool was_set(const std::string& name) const {
    return set_names_.count(name) != 0;
  }
  bool has_flag(const std::string& name) const {
    return flags_.count(name) != 0;
  }
  const std::vector<std::string>& args() const { return args_; }
  // Every flag with its default and help, as Go's flag package prints.
  std::string usage() const;

private:
  struct flag {
    std::string help;
    std::string default_text;
    bool is_bool = false;
    std::string type_name;      // after the name in the usage; "" for booleans
    bool quote_default = false; // strings show their default quoted
    bool is_action = false;
    std::function<bool(const std::string&, std::string&)> set;
  };
  using setter = std::function<bool(const std::string&, std::string&)>;
  static flag make(std::string help, std::string type_name,
                   std::string default_text, setter set);
  bool set(const std::string& name, const std::string& value,
           std::string& error);

  std::string program_;
  std::map<std::string, flag> flags_;
  std::vector<std::string> args_;
  std::set<std::string> set_names_;
  std::string action_;
  bool help_requested_ = false;
};

} // namespace dm
