// HTML escaping as Go's template.HTMLEscape does it, for the template
// engine's html function and the service's own pages alike.
#pragma once

#include <string>
#include <string_view>

namespace dm {

// Appends `text` with ", ', &, < and > as entities and NUL as U+FFFD.
inline void append_html_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
    case '\0':
      out += "\xEF\xBF\xBD";
      break;
    case '"':
      out += "&#34;";
      break;
    case '\'':
      out += "&#39;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    default:
      out += c;
    }
  }
}

} // namespace dm
