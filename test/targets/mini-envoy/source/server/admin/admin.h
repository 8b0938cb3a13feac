#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "source/server/admin/config_dump_handler.h"
#include "source/server/connection_handler_impl.h"
#include "source/server/listener_manager_impl.h"

namespace Envoy {
namespace Server {

struct AdminContext {
  ListenerManagerImpl& listener_manager;
  Stats::StoreImpl& stats;
  uint32_t concurrency;
  bool reuse_port;
  std::string version;
};

// The part of Envoy's admin API that describes listeners and workers, over plain HTTP/1.1.
class AdminImpl {
public:
  explicit AdminImpl(AdminContext context);
  // Binds the admin socket on the main thread (listen() comes with addListenerToHandler).
  void startHttpListener(const Network::Address::InstanceConstSharedPtr& address);
  void addListenerToHandler(ConnectionHandlerImpl* handler);
  const Network::Address::InstanceConstSharedPtr& localAddress() const;
  void closeSocket();

  // Returns the full HTTP response for one request line's method and path.
  std::string handle(const std::string& method, const std::string& path_and_query);

private:
  std::string handlerListeners(const std::string& query);
  std::string handlerServerInfo();
  std::string handlerStats(const std::string& query);

  AdminContext context_;
  std::chrono::steady_clock::time_point started_;
  ConfigDumpHandler config_dump_;
  std::shared_ptr<ListenSocketFactoryImpl> socket_factory_;
  std::unique_ptr<ListenerImpl> listener_;
};

} // namespace Server
} // namespace Envoy
