#include "source/server/admin/utils.h"

#include <cctype>
#include <sstream>

namespace Envoy {
namespace Server {
namespace Utility {
namespace {

std::string percentDecode(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && isxdigit(static_cast<unsigned char>(in[i + 1])) &&
        isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (in[i] == '+') {
      out += ' ';
    } else {
      out += in[i];
    }
  }
  return out;
}

} // namespace

std::vector<std::pair<std::string, std::string>> parseQuery(const std::string& query) {
  std::vector<std::pair<std::string, std::string>> params;
  std::istringstream parts(query);
  std::string part;
  while (std::getline(parts, part, '&')) {
    if (part.empty()) {
      continue;
    }
    const auto eq = part.find('=');
    params.emplace_back(percentDecode(part.substr(0, eq)),
                        eq == std::string::npos ? "" : percentDecode(part.substr(eq + 1)));
  }
  return params;
}

std::string queryParam(const std::string& query, const std::string& key) {
  for (const auto& [name, value] : parseQuery(query)) {
    if (name == key) {
      return value;
    }
  }
  return "";
}

std::string response(int status, const std::string& content_type, const std::string& body) {
  const char* reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Bad Request";
  std::ostringstream out;
  out << "HTTP/1.1 " << status << " " << reason << "\r\n"
      << "content-type: " << content_type << "\r\n"
      << "content-length: " << body.size() << "\r\n"
      << "server: envoy\r\n"
      << "connection: close\r\n\r\n"
      << body;
  return out.str();
}

std::string quoteForError(const std::string& text) {
  std::string out;
  for (const char c : text.substr(0, 80)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return out + (text.size() > 80 ? "..." : "");
}

} // namespace Utility
} // namespace Server
} // namespace Envoy
