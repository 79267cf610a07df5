// Flag parsing in the manner of Go's flag package.
#include "config/flag_set.hpp"

#include <fstream>

#include "codec/hex_digit.hpp"
#include "duration/go_duration.hpp"

namespace dm {

flag_set::flag_set(std::string program) : program_(std::move(program)) {
  // nop
}

void flag_set::add_string(const std::string& name, std::string* target,
                          const std::string& help) {
  flags_[name] = {help, *target, false,
                  [target](const std::string& value, std::string&) {
                    *target = value;
                    return true;
                  }};
}

void flag_set::add_uint(const std::string& name, std::uint64_t* target,
                        const std::string& help) {
  flags_[name] = {help, std::to_string(*target), false,
                  [target](const std::string& value, std::string& error) {
                    std::string why;
                    if (!parse_go_uint(value, *target, why)) {
                      error = "invalid value \"" + value + "\": " + why;
                      return false;
                    }
                    return true;
                  }};
}

namespace {

char lower_ascii(char c) {
  return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

// Go's underscoreOK: each "_" stands between digits (or after a base
// prefix and before a digit).
bool underscores_ok(const std::string& text) {
  char saw = '^';
  std::size_t i = 0;
  bool hex = false;
  char prefix =
      text.size() >= 2 && text[0] == '0' ? lower_ascii(text[1]) : '\0';
  if (prefix == 'b' || prefix == 'o' || prefix == 'x') {
    i = 2;
    saw = '0';
    hex = prefix == 'x';
  }
  for (; i < text.size(); ++i) {
    char c = text[i];
    int digit = hex_digit_value(c);
    if (digit >= 0 && (hex || digit < 10)) {
      saw = '0';
      continue;
    }
    if (c == '_') {
      if (saw != '0')
        return false;
      saw = '_';
      continue;
    }
    if (saw == '_')
      return false;
    saw = '!';
  }
  return saw != '_';
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
  if (underscores && !underscores_ok(text))
    return false;
  out = value;
  error.clear();
  return true;
}

void flag_set::add_bool(const std::string& name, bool* target,
                        const std::string& help) {
  flags_[name] = {help, *target ? "true" : "false", true,
                  [target](const std::string& value, std::string& error) {
                    if (value == "true" || value == "1" || value == "t" ||
                        value == "T" || value == "TRUE" || value == "True")
                      *target = true;
                    else if (value == "false" || value == "0" || value == "f" ||
                             value == "F" || value == "FALSE" ||
                             value == "False")
                      *target = false;
                    else {
                      error = "invalid boolean value \"" + value + "\"";
                      return false;
                    }
                    return true;
                  }};
}

void flag_set::add_duration(const std::string& name,
                            std::chrono::nanoseconds* target,
                            const std::string& help) {
  flags_[name] = {help, format_go_duration(*target), false,
                  [target](const std::string& value, std::string& error) {
                    auto parsed = parse_go_duration(value);
                    if (!parsed.value) {
                      error =
                          "invalid value \"" + value + "\": " + parsed.error;
                      return false;
                    }
                    *target = *parsed.value;
                    return true;
                  }};
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
  }
  for (; i < argc; ++i)
    args_.emplace_back(argv[i]);
  return true;
}

std::string flag_set::usage() const {
  std::string out = "Usage of " + program_ + ":\n";
  for (const auto& [name, f] : flags_) {
    out += "  -" + name;
    if (!f.is_bool)
      out += " value";
    out += "\n    \t" + f.help;
    if (!f.default_text.empty() && f.default_text != "false" &&
        f.default_text != "0")
      out += " (default " +
             (f.is_bool ? f.default_text : "\"" + f.default_text + "\"") + ")";
    out += "\n";
  }
  return out;
}

} // namespace dm
