// Flag parsing in the manner of Go's flag package.
#include "config/flag_set.hpp"

#include <cstdint>
#include <fstream>
#include <string_view>

#include "text/go_number.hpp"
#include "duration/go_duration.hpp"

namespace dm {

flag_set::flag_set(std::string program) : program_(std::move(program)) {
  // nop
}

flag_set::flag flag_set::make(std::string help, std::string type_name,
                              std::string default_text, setter set) {
  flag f;
  f.help = std::move(help);
  f.type_name = std::move(type_name);
  f.default_text = std::move(default_text);
  f.set = std::move(set);
  return f;
}

void flag_set::add_string(const std::string& name, std::string* target,
                          const std::string& help) {
  auto& f = flags_[name] =
      make(help, "string", *target,
           [target](const std::string& value, std::string&) {
             *target = value;
             return true;
           });
  f.quote_default = true;
}

namespace {

// A flag whose value is read by `parse` (text, out, why) into `target`.
template <class T, class Parse>
std::function<bool(const std::string&, std::string&)> parsed_into(T* target,
                                                                  Parse parse) {
  return [target, parse](const std::string& value, std::string& error) {
    std::string why;
    if (!parse(value, *target, why)) {
      error = "invalid value \"" + value + "\": " + why;
      return false;
    }
    return true;
  };
}

} // namespace

void flag_set::add_uint(const std::string& name, std::uint64_t* target,
                        const std::string& help) {
  flags_[name] = make(help, "uint", std::to_string(*target),
                      parsed_into(target, parse_go_uint));
}

void flag_set::add_int(const std::string& name, std::int64_t* target,
                       const std::string& help) {
  flags_[name] = make(help, "int", std::to_string(*target),
                      parsed_into(target, parse_go_int));
}

void flag_set::add_size(const std::string& name, std::uint64_t* target,
                        const std::string& help) {
  flags_[name] = make(help, "value", *target == 0 ? "" : format_size(*target),
                      parsed_into(target, parse_size));
}

void flag_set::add_list(const std::string& name,
                        std::vector<std::string>* target,
                        const std::string& help) {
  std::string joined;
  for (const auto& item : *target)
    joined += (joined.empty() ? "" : ",") + item;
  flags_[name] = make(help, "value", joined,
                      [target](const std::string& value, std::string&) {
                        target->clear();
                        std::size_t start = 0;
                        while (!value.empty()) {
                          auto comma = value.find(',', start);
                          target->push_back(value.substr(start, comma - start));
                          if (comma == std::string::npos)
                            break;
                          start = comma + 1;
                        }
                        return true;
                      });
}

void flag_set::add_action(const std::string& name, const std::string& help) {
  auto& f = flags_[name] =
      make(help, "", "", [](const std::string&, std::string&) { return true; });
  f.is_bool = true;
  f.is_action = true;
}

namespace {

char lower_ascii(char c) {
  return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

} // namespace

bool parse_go_uint(const std::string& text, std::uint64_t& out,
                   std::string& error) {
  error = "not an unsigned integer";
  if (text.empty())
    return false;
  std::string digits = text;
  unsigned base = 10;
  if (text[0] == '0') {
    char prefix = text.size() >= 3 ? lower_ascii(text[1]) : '\0';
    if (prefix == 'b' || prefix == 'o' || prefix == 'x') {
      base = prefix == 'b' ? 2 : prefix == 'o' ? 8 : 16;
      digits = text.substr(2);
    } else {
      base = 8; // a leading 0: octal, as in Go
      digits = text.substr(1);
    }
  }
  bool underscores = false;
  std::uint64_t value = 0;
  for (char c : digits) {
    if (c == '_') {
      underscores = true;
      continue;
    }
    int value_of_digit = hex_digit_value(c);
    if (value_of_digit < 0 || static_cast<unsigned>(value_of_digit) >= base)
      return false;
    auto digit = static_cast<unsigned>(value_of_digit);
    if (value > (UINT64_MAX - digit) / base) {
      error = "value out of range";
      return false;
    }
    value = value * base + digit;
  }
  if (underscores && !go_underscores_ok(text))
    return false;
  out = value;
  error.clear();
  return true;
}

void flag_set::add_bool(const std::string& name, bool* target,
                        const std::string& help) {
  auto& f = flags_[name] =
      make(help, "", *target ? "true" : "",
           [target](const std::string& value, std::string& error) {
             if (value == "true" || value == "1" || value == "t" ||
                 value == "T" || value == "TRUE" || value == "True")
               *target = true;
             else if (value == "false" || value == "0" || value == "f" ||
                      value == "F" || value == "FALSE" || value == "False")
               *target = false;
             else {
               error = "invalid boolean value \"" + value + "\"";
               return false;
             }
             return true;
           });
  f.is_bool = true;
}

void flag_set::add_duration(const std::string& name,
                            std::chrono::nanoseconds* target,
                            const std::string& help) {
  flags_[name] = make(
      help, "duration", target->count() == 0 ? "" : format_go_duration(*target),
      [target](const std::string& value, std::string& error) {
        auto parsed = parse_go_duration(value);
        if (!parsed.value) {
          error = "invalid value \"" + value + "\": " + parsed.error;
          return false;
        }
        *target = *parsed.value;
        return true;
      });
}

bool flag_set::set(const std::string& name, const std::string& value,
                   std::string& error) {
  auto it = flags_.find(name);
  if (it == flags_.end()) {
    error = "flag provided but not defined: -" + name;
    return false;
  }
  std::string why;
  if (!it->second.set(value, why)) {
    error = why + " for flag -" + name;
    return false;
  }
  set_names_.insert(name);
  // Go's BoolFunc calls its function whatever the value; -version ignores it.
  if (it->second.is_action)
    action_ = name;
  return true;
}

bool flag_set::load_file(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in)
    return true;
  std::string line;
  int number = 0;
  // As the original's loadflags: "#" and ";" begin comments, and white
  // space around the line, the name and the value is dropped.
  static const char* const space = " \t\r\v\f";
  auto trim = [](const std::string& text) {
    auto first = text.find_first_not_of(space);
    if (first == std::string::npos)
      return std::string();
    return text.substr(first, text.find_last_not_of(space) - first + 1);
  };
  while (std::getline(in, line)) {
    ++number;
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';')
      continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) {
      error = path + ":" + std::to_string(number) + ": expected name=value";
      return false;
    }
    std::string name = trim(line.substr(0, eq));
    if (name.find_first_of(space) != std::string::npos) {
      error = path + ":" + std::to_string(number) + ": name has white space";
      return false;
    }
    while (!name.empty() && name.front() == '-')
      name.erase(0, 1);
    if (!set(name, trim(line.substr(eq + 1)), error)) {
      error = path + ":" + std::to_string(number) + ": " + error;
      return false;
    }
    if (!action_.empty())
      return true;
  }
  return true;
}

bool flag_set::load_files(const std::string& dir, std::string& error) {
  for (const char* file : {"flags.default", "flags.extra"}) {
    if (!load_file(dir + "/" + file, error))
      return false;
    if (!action_.empty())
      break;
  }
  return true;
}

bool flag_set::parse(int argc, const char* const* argv, std::string& error) {
  int i = 1;
  for (; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-')
      break;
    if (arg == "--") {
      ++i;
      break;
    }
    arg.erase(0, arg[1] == '-' ? 2 : 1);
    if (arg.empty() || arg[0] == '-' || arg[0] == '=') {
      error = "bad flag syntax: " + std::string(argv[i]);
      return false;
    }
    auto eq = arg.find('=');
    std::string name = arg.substr(0, eq);
    if (name == "h" || name == "help") {
      help_requested_ = true;
      return true;
    }
    auto it = flags_.find(name);
    if (it == flags_.end()) {
      error = "flag provided but not defined: -" + name;
      return false;
    }
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (it->second.is_bool) {
      value = "true";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      error = "flag needs an argument: -" + name;
      return false;
    }
    if (!set(name, value, error))
      return false;
    if (!action_.empty())
      return true;
  }
  for (; i < argc; ++i)
    args_.emplace_back(argv[i]);
  return true;
}

std::string flag_set::usage() const {
  // As Go's flag.PrintDefaults: sorted by name, the type after the name, the
  // help on the next line, and the default unless it is the zero value.
  std::string out = "Usage of " + program_ + ":\n";
  for (const auto& [name, f] : flags_) {
    out += "  -" + name;
    if (!f.type_name.empty())
      out += " " + f.type_name;
    out += name.size() == 1 && f.type_name.empty() ? "\t" : "\n    \t";
    out += f.help;
    bool zero =
        f.default_text.empty() || (!f.quote_default && f.default_text == "0");
    if (!zero)
      out += " (default " +
             (f.quote_default ? "\"" + f.default_text + "\"" : f.default_text) +
             ")";
    out += "\n";
  }
  return out;
}

bool parse_go_int(const std::string& text, std::int64_t& out,
                  std::string& error) {
  bool negative = !text.empty() && text[0] == '-';
  bool sign = !text.empty() && (text[0] == '-' || text[0] == '+');
  std::uint64_t magnitude = 0;
  if (!parse_go_uint(sign ? text.substr(1) : text, magnitude, error))
    return false;
  std::uint64_t limit = negative ? std::uint64_t(INT64_MAX) + 1 : INT64_MAX;
  if (magnitude > limit) {
    error = "value out of range";
    return false;
  }
  out = negative ? static_cast<std::int64_t>(0 - magnitude)
                 : static_cast<std::int64_t>(magnitude);
  return true;
}

namespace {

struct size_unit {
  const char* suffix;
  std::uint64_t multiplier;
};

// flagutil.Size's table, in its order of preference.
constexpr size_unit size_units[] = {
    {"EiB", 1ull << 60},
    {"PiB", 1ull << 50},
    {"TiB", 1ull << 40},
    {"GiB", 1ull << 30},
    {"MiB", 1ull << 20},
    {"KiB", 1ull << 10},
    {"E", 1ull << 60},
    {"P", 1ull << 50},
    {"T", 1ull << 40},
    {"G", 1ull << 30},
    {"M", 1ull << 20},
    {"K", 1ull << 10},
    {"B", 1},
    {"EB", 1000000000000000000ull},
    {"PB", 1000000000000000ull},
    {"TB", 1000000000000ull},
    {"GB", 1000000000ull},
    {"MB", 1000000ull},
    {"kB", 1000ull},
};

// strconv.ParseUint(text, 10, 64): decimal digits only.
bool parse_decimal(const std::string& text, std::uint64_t& out,
                   std::string& error) {
  error = "not an unsigned integer";
  if (text.empty())
    return false;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) {
      error = "value out of range";
      return false;
    }
    value = value * 10 + digit;
  }
  out = value;
  error.clear();
  return true;
}

} // namespace

bool parse_size(const std::string& text, std::uint64_t& out,
                std::string& error) {
  for (const auto& unit : size_units) {
    std::string_view suffix(unit.suffix);
    if (text.size() < suffix.size() ||
        text.compare(text.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    std::uint64_t count = 0;
    if (!parse_decimal(text.substr(0, text.size() - suffix.size()), count,
                       error))
      return false;
    // Go's Size multiplies without a check; an overflow is refused here.
    if (count != 0 && count > UINT64_MAX / unit.multiplier) {
      error = "value out of range";
      return false;
    }
    out = count * unit.multiplier;
    return true;
  }
  return parse_decimal(text, out, error);
}

std::string format_size(std::uint64_t bytes) {
  if (bytes == 0)
    return "0B";
  for (const auto& unit : size_units) {
    if (unit.multiplier == 1)
      continue;
    if (bytes % unit.multiplier == 0)
      return std::to_string(bytes / unit.multiplier) + unit.suffix;
  }
  return std::to_string(bytes) + "B";
}

} // namespace dm
