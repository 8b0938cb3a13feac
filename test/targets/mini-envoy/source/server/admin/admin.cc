#include "source/server/admin/admin.h"

#include <unistd.h>

#include <regex>
#include <sstream>

#include "source/common/json/json_value.h"
#include "source/server/admin/utils.h"

namespace Envoy {
namespace Server {
using Json::escape;
using Utility::queryParam;
using Utility::response;

AdminImpl::AdminImpl(AdminContext context)
    : context_(std::move(context)), started_(std::chrono::steady_clock::now()),
      config_dump_(context_.listener_manager, context_.reuse_port) {}

void AdminImpl::startHttpListener(const Network::Address::InstanceConstSharedPtr& address) {
  socket_factory_ = std::make_shared<ListenSocketFactoryImpl>(address, SocketLayout::Shared, 1);
  listener_ = std::make_unique<ListenerImpl>(
      "admin", "admin", socket_factory_,
      [this](Network::ConnectionImpl& connection, std::string& buffer) -> bool {
        const auto end = buffer.find("\r\n\r\n");
        if (end == std::string::npos) {
          return buffer.size() > 65536; // a request without an end: drop it
        }
        const auto line_end = buffer.find("\r\n");
        std::istringstream request_line(buffer.substr(0, line_end));
        std::string method, path;
        request_line >> method >> path;
        connection.write(handle(method, path));
        return true;
      });
}

void AdminImpl::addListenerToHandler(ConnectionHandlerImpl* handler) {
  handler->addListener(*listener_);
}

const Network::Address::InstanceConstSharedPtr& AdminImpl::localAddress() const {
  return socket_factory_->localAddress();
}

void AdminImpl::closeSocket() { socket_factory_->closeAllSockets(); }

std::string AdminImpl::handle(const std::string& method, const std::string& path_and_query) {
  const auto qmark = path_and_query.find('?');
  const std::string path = path_and_query.substr(0, qmark);
  const std::string query = qmark == std::string::npos ? "" : path_and_query.substr(qmark + 1);
  if (method != "GET") {
    return response(400, "text/plain", "only GET is supported by this admin API\n");
  }
  try {
    if (path == "/listeners") {
      return handlerListeners(query);
    }
    if (path == "/server_info") {
      return response(200, "application/json", handlerServerInfo());
    }
    if (path == "/stats") {
      return handlerStats(query);
    }
    if (path == "/config_dump") {
      return config_dump_.handlerConfigDump(query);
    }
    if (path == "/ready") {
      return response(200, "text/plain", "LIVE\n");
    }
  } catch (const std::regex_error& e) {
    return response(400, "text/plain", std::string("invalid regex: ") + e.what() + "\n");
  }
  return response(404, "text/plain", "invalid path: " + path + "\n");
}

std::string AdminImpl::handlerListeners(const std::string& query) {
  const auto& listeners = context_.listener_manager.listeners();
  if (queryParam(query, "format") == "json") {
    std::ostringstream out;
    out << "{\"listener_statuses\":[";
    for (size_t i = 0; i < listeners.size(); ++i) {
      const auto& address = listeners[i]->listenSocketFactory().localAddress();
      out << (i ? "," : "") << "{\"name\":\"" << escape(listeners[i]->name())
          << "\",\"local_address\":{\"socket_address\":{\"address\":\"" << escape(address->ip())
          << "\",\"port_value\":" << address->port() << "}}}";
    }
    out << "]}\n";
    return response(200, "application/json", out.str());
  }
  std::ostringstream out;
  for (const auto& listener : listeners) {
    out << listener->name() << "::" << listener->listenSocketFactory().localAddress()->asString()
        << "\n";
  }
  return response(200, "text/plain", out.str());
}

std::string AdminImpl::handlerServerInfo() {
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now() - started_)
                          .count();
  std::ostringstream out;
  out << "{\"version\":\"" << escape(context_.version) << "\",\"state\":\"LIVE\","
      << "\"hot_restart_version\":\"disabled\","
      << "\"command_line_options\":{\"concurrency\":" << context_.concurrency
      << ",\"base_id\":\"0\",\"mode\":\"Serve\"},"
      << "\"node\":{\"id\":\"mini-envoy\",\"cluster\":\"mini-envoy\"},"
      << "\"uptime_current_epoch\":\"" << uptime << "s\",\"uptime_all_epochs\":\"" << uptime
      << "s\"}\n";
  return out.str();
}

std::string AdminImpl::handlerStats(const std::string& query) {
  const std::string filter = queryParam(query, "filter");
  const std::regex filter_regex(filter.empty() ? std::string(".*") : filter);
  const bool used_only = query.find("usedonly") != std::string::npos;
  auto snapshot = context_.stats.snapshot();
  snapshot["server.concurrency"] = context_.concurrency;
  std::ostringstream out;
  const bool json = queryParam(query, "format") == "json";
  bool first = true;
  if (json) {
    out << "{\"stats\":[";
  }
  for (const auto& [name, value] : snapshot) {
    if (!std::regex_search(name, filter_regex) || (used_only && value == 0)) {
      continue;
    }
    if (json) {
      out << (first ? "" : ",") << "{\"name\":\"" << escape(name) << "\",\"value\":" << value
          << "}";
    } else {
      out << name << ": " << value << "\n";
    }
    first = false;
  }
  if (json) {
    out << "]}\n";
  }
  return response(200, json ? "application/json" : "text/plain", out.str());
}

} // namespace Server
} // namespace Envoy
