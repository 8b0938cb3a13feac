#pragma once

#include <string>
#include <utility>
#include <vector>

namespace Envoy {
namespace Server {
namespace Utility {

// "a=1&b=%2C" -> {{"a","1"},{"b",","}}, keys and values percent-decoded, in order.
std::vector<std::pair<std::string, std::string>> parseQuery(const std::string& query);
// Value of a query parameter (decoded), or "" when absent.
std::string queryParam(const std::string& query, const std::string& key);
// A complete HTTP/1.1 response that closes the connection.
std::string response(int status, const std::string& content_type, const std::string& body);
// Text from a request, fit to quote in an error body: at most 80 bytes, printable ASCII only.
std::string quoteForError(const std::string& text);

} // namespace Utility
} // namespace Server
} // namespace Envoy
