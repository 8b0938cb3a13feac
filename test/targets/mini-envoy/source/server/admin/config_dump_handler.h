#pragma once

#include <string>

#include "source/common/json/json_value.h"
#include "source/server/listener_manager_impl.h"

namespace Envoy {
namespace Server {

// GET /config_dump for the listeners: the full dump (a ListenersConfigDump), or with
// resource=dynamic_listeners|static_listeners one element per listener, trimmed by `mask` and
// filtered by `name_regex` as Envoy does. Fields print as proto3 JSON does: unset ones not at
// all, and the Listener type has the fields of the version the layout stands for.
class ConfigDumpHandler {
public:
  // reuse_port: the Envoy >= 1.20 layout, whose Listener has enable_reuse_port (set true).
  ConfigDumpHandler(const ListenerManagerImpl& listener_manager, bool reuse_port);
  // The full HTTP response.
  std::string handlerConfigDump(const std::string& query) const;

private:
  // as_any: an element of `configs` (with its "@type"), not a member of a ListenersConfigDump.
  Json::Value dynamicListener(const ListenerImpl& listener, bool as_any) const;

  const ListenerManagerImpl& listener_manager_;
  bool reuse_port_;
};

} // namespace Server
} // namespace Envoy
