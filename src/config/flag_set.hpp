// Go-style command-line flags: -name=value, -name value, --name=value,
// booleans as -name or -name=false, defaults from /etc/<program>/
// flags.default and flags.extra (one name=value per line), -h for help.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace dm {

// An unsigned integer as Go's strconv.ParseUint(text, 0, 64) reads it
// (what flag.Uint takes): decimal, 0x hex, 0o or leading-0 octal, 0b
// binary, "_" between digits. False with `error` otherwise.
bool parse_go_uint(const std::string& text, std::uint64_t& out,
                   std::string& error);

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

  // Reads name=value lines from a file if it exists; false with `error` on a
  // bad line or unknown name.
  bool load_file(const std::string& path, std::string& error);

  // Parses argv; leaves positional arguments in `args`. Returns false with
  // `error` set on a bad flag; sets `help_requested` for -h/-help.
  bool parse(int argc, const char* const* argv, std::string& error);

  bool help_requested() const { return help_requested_; }
  const std::vector<std::string>& args() const { return args_; }
  // Every flag with its default and help, as Go's flag package prints.
  std::string usage() const;

private:
  struct flag {
    std::string help;
    std::string default_text;
    bool is_bool = false;
    std::function<bool(const std::string&, std::string&)> set;
  };
  bool set(const std::string& name, const std::string& value,
           std::string& error);

  std::string program_;
  std::map<std::string, flag> flags_;
  std::vector<std::string> args_;
  bool help_requested_ = false;
};

} // namespace dm
