#include "source/server/admin/config_dump_handler.h"

#include <ctime>
#include <map>
#include <regex>
#include <sstream>

#include "source/server/admin/utils.h"

namespace Envoy {
namespace Server {
namespace {

constexpr char DynamicListenerType[] =
    "type.googleapis.com/envoy.admin.v3.ListenersConfigDump.DynamicListener";
constexpr char ListenersConfigDumpType[] = "type.googleapis.com/envoy.admin.v3.ListenersConfigDump";
constexpr char ListenerType[] = "type.googleapis.com/envoy.config.listener.v3.Listener";

// The message types a mask can walk, field name -> kind of the field: "" a scalar (or a
// repeated scalar, a wrapper such as BoolValue, an enum), "*" a message this target does not
// model (any path below it is accepted), "Any:T" an Any holding a T (masks descend into it, as
// Envoy's do), else the name of a message type below.
using MessageSchema = std::map<std::string, std::string>;
using Schema = std::map<std::string, MessageSchema>;

Schema listenerSchema(bool v1_20) {
  Schema schema;
  schema["DynamicListener"] = {{"name", ""},
                               {"active_state", "ListenerState"},
                               {"warming_state", "ListenerState"},
                               {"draining_state", "ListenerState"},
                               {"error_state", "*"}};
  schema["StaticListener"] = {{"listener", "Any:Listener"}, {"last_updated", ""}};
  schema["ListenerState"] = {
      {"version_info", ""}, {"listener", "Any:Listener"}, {"last_updated", ""}};
  // envoy.config.listener.v3.Listener at 1.19.1.
  schema["Listener"] = {{"name", ""},
                        {"address", "Address"},
                        {"stat_prefix", ""},
                        {"filter_chains", "*"},
                        {"use_original_dst", ""},
                        {"default_filter_chain", "*"},
                        {"per_connection_buffer_limit_bytes", ""},
                        {"metadata", "*"},
                        {"deprecated_v1", "*"},
                        {"drain_type", ""},
                        {"listener_filters", "*"},
                        {"listener_filters_timeout", ""},
                        {"continue_on_listener_filters_timeout", ""},
                        {"transparent", ""},
                        {"freebind", ""},
                        {"socket_options", "*"},
                        {"tcp_fast_open_queue_length", ""},
                        {"traffic_direction", ""},
                        {"udp_listener_config", "*"},
                        {"api_listener", "*"},
                        {"connection_balance_config", "ConnectionBalanceConfig"},
                        {"reuse_port", ""},
                        {"access_log", "*"},
                        {"tcp_backlog_size", ""},
                        {"bind_to_port", ""}};
  if (v1_20) {
    // 1.20.0 deprecates reuse_port for this BoolValue, which defaults to true.
    schema["Listener"]["enable_reuse_port"] = "";
  }
  schema["Address"] = {
      {"socket_address", "SocketAddress"}, {"pipe", "*"}, {"envoy_internal_address", "*"}};
  schema["SocketAddress"] = {{"protocol", ""},      {"address", ""},       {"port_value", ""},
                             {"named_port", ""},    {"resolver_name", ""}, {"ipv4_compat", ""}};
  schema["ConnectionBalanceConfig"] = {{"exact_balance", "ExactBalance"}};
  schema["ExactBalance"] = {};
  return schema;
}

// A field mask as a tree: a leaf keeps its field whole, an inner node keeps only its children.
struct MaskNode {
  bool leaf{false};
  std::map<std::string, MaskNode> children;
};

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, separator)) {
    parts.push_back(part);
  }
  if (!text.empty() && text.back() == separator) {
    parts.emplace_back();
  }
  return parts;
}

// Checks one path against the schema from `type`; "" when it names fields the type has.
std::string checkPath(const Schema& schema, std::string type,
                      const std::vector<std::string>& fields) {
  std::string parent;
  for (const auto& field : fields) {
    if (type == "*") {
      return "";
    }
    if (type.empty()) {
      return "'" + parent + "' has no fields";
    }
    if (field.empty()) {
      return "empty field name";
    }
    const auto& message = schema.at(type);
    const auto found = message.find(field);
    if (found == message.end()) {
      return "no field '" + field + "' in " + type;
    }
    type = found->second.rfind("Any:", 0) == 0 ? found->second.substr(4) : found->second;
    parent = field;
  }
  return "";
}

// Builds the mask tree for `mask` on elements of `type`; false and `error` when a path is bad.
bool parseMask(const Schema& schema, const std::string& type, const std::string& mask,
               MaskNode& root, std::string& error) {
  const auto paths = split(mask, ',');
  if (paths.empty()) {
    error = "mask has no field paths";
    return false;
  }
  for (const auto& path : paths) {
    const auto fields = split(path, '.');
    const std::string problem = checkPath(schema, type, fields);
    if (!problem.empty()) {
      error = "FieldMask path '" + Utility::quoteForError(path) +
              "' could not be used: " + Utility::quoteForError(problem);
      return false;
    }
    MaskNode* node = &root;
    for (const auto& field : fields) {
      node = &node->children[field];
    }
    node->leaf = true;
  }
  return true;
}

// Keeps only the masked fields of an object; an Any's "@type" always stays.
void trim(Json::Value& object, const MaskNode& mask) {
  object.retain([&mask](const std::string& key, Json::Value& value) {
    if (key == "@type") {
      return true;
    }
    const auto child = mask.children.find(key);
    if (child == mask.children.end()) {
      return false;
    }
    if (!child->second.leaf) {
      if (value.type() == Json::Value::Type::Object) {
        trim(value, child->second);
      } else if (value.type() == Json::Value::Type::Array) {
        for (auto& element : value.children()) {
          if (element.type() == Json::Value::Type::Object) {
            trim(element, child->second);
          }
        }
      }
    }
    return true;
  });
}

// A google.protobuf.Timestamp in JSON: RFC 3339, UTC, milliseconds.
std::string timestamp(std::chrono::system_clock::time_point time) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[40];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &utc);
  char out[48];
  snprintf(out, sizeof(out), "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

std::string badRequest(const std::string& message) {
  return Utility::response(400, "text/plain", message + "\n");
}

} // namespace

ConfigDumpHandler::ConfigDumpHandler(const ListenerManagerImpl& listener_manager, bool reuse_port)
    : listener_manager_(listener_manager), reuse_port_(reuse_port) {}

Json::Value ConfigDumpHandler::dynamicListener(const ListenerImpl& listener, bool as_any) const {
  const auto& address = listener.listenSocketFactory().localAddress();
  Json::Value socket_address = Json::Value::object();
  socket_address.set("address", Json::Value::string(address->ip()));
  if (address->port() != 0) {
    socket_address.set("port_value", Json::Value::number(address->port()));
  }
  Json::Value config = Json::Value::object();
  config.set("@type", Json::Value::string(ListenerType));
  config.set("name", Json::Value::string(listener.name()));
  config.set("address", Json::Value::object().set("socket_address", std::move(socket_address)));
  if (listener.connectionBalanceType() == ConnectionBalanceType::Exact) {
    config.set("connection_balance_config",
               Json::Value::object().set("exact_balance", Json::Value::object()));
  }
  // 1.19's reuse_port is a plain bool, false here, so proto3 JSON leaves it out; 1.20's
  // enable_reuse_port is a BoolValue our config sets, so it prints even where it is the default.
  if (reuse_port_) {
    config.set("enable_reuse_port", Json::Value::boolean(true));
  }
  Json::Value state = Json::Value::object();
  if (!listener.versionInfo().empty()) {
    state.set("version_info", Json::Value::string(listener.versionInfo()));
  }
  state.set("listener", std::move(config));
  state.set("last_updated", Json::Value::string(timestamp(listener.lastUpdated())));
  Json::Value dynamic = Json::Value::object();
  if (as_any) {
    dynamic.set("@type", Json::Value::string(DynamicListenerType));
  }
  dynamic.set("name", Json::Value::string(listener.name()));
  dynamic.set("active_state", std::move(state));
  return dynamic;
}

std::string ConfigDumpHandler::handlerConfigDump(const std::string& query) const {
  std::string resource, mask, name_regex;
  bool has_resource = false, has_mask = false;
  for (const auto& [key, value] : Utility::parseQuery(query)) {
    if (key == "resource") {
      resource = value;
      has_resource = true;
    } else if (key == "mask") {
      mask = value;
      has_mask = true;
    } else if (key == "name_regex") {
      name_regex = value;
    } else if (key != "include_eds") { // no EDS here: nothing to include
      return badRequest("config_dump: unknown parameter '" + Utility::quoteForError(key) +
                        "' (this mini-Envoy knows resource, mask, name_regex, include_eds)");
    }
  }
  std::regex name_filter;
  try {
    name_filter = std::regex(name_regex.empty() ? std::string(".*") : name_regex);
  } catch (const std::regex_error&) {
    return badRequest("config_dump: invalid name_regex");
  }
  const bool dynamic = resource == "dynamic_listeners";
  if (has_resource && !dynamic && resource != "static_listeners") {
    return badRequest("config_dump: this mini-Envoy dumps only resource=dynamic_listeners or "
                      "resource=static_listeners, not '" +
                      Utility::quoteForError(resource) + "'");
  }
  if (has_mask && !has_resource) {
    return badRequest("config_dump: this mini-Envoy applies mask only with resource");
  }
  MaskNode mask_tree;
  if (has_mask) {
    std::string error;
    if (!parseMask(listenerSchema(reuse_port_), dynamic ? "DynamicListener" : "StaticListener",
                   mask, mask_tree, error)) {
      return badRequest(error);
    }
  }

  // Every listener came as if from LDS: there are no static (bootstrap) ones.
  Json::Value listeners = Json::Value::array();
  std::string version_info;
  for (const auto& listener : listener_manager_.listeners()) {
    if (std::regex_search(listener->name(), name_filter)) {
      listeners.push(dynamicListener(*listener, has_resource));
      version_info = listener->versionInfo();
    }
  }
  Json::Value configs = Json::Value::array();
  if (!has_resource) {
    Json::Value dump = Json::Value::object();
    dump.set("@type", Json::Value::string(ListenersConfigDumpType));
    if (!version_info.empty()) {
      dump.set("version_info", Json::Value::string(version_info));
    }
    if (!listeners.children().empty()) {
      dump.set("dynamic_listeners", std::move(listeners));
    }
    configs.push(std::move(dump));
  } else if (dynamic) {
    for (auto& listener : listeners.children()) {
      if (has_mask) {
        trim(listener, mask_tree);
      }
      configs.push(std::move(listener));
    }
  }
  return Utility::response(200, "application/json",
                           Json::Value::object().set("configs", std::move(configs)).toString() +
                               "\n");
}

} // namespace Server
} // namespace Envoy
