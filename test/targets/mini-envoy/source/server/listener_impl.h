#pragma once

#include <memory>
#include <string>
#include <vector>

#include "source/common/network/connection_impl.h"
#include "source/common/network/listen_socket_impl.h"

namespace Envoy {
namespace Server {

// Where a listener's sockets come from, by Envoy generation.
enum class SocketLayout {
  // The admin listener: one socket, used as is on the main thread.
  Shared,
  // Envoy <= 1.19 default: bound once on the main thread, dup()'ed and listen()'ed per worker.
  DuplicatePerWorker,
  // Envoy >= 1.20 default: one SO_REUSEPORT socket per worker, all bound and listening on main.
  ReusePort,
};

class ListenSocketFactoryImpl {
public:
  ListenSocketFactoryImpl(const Network::Address::InstanceConstSharedPtr& address,
                          SocketLayout layout, uint32_t concurrency);
  Network::SocketSharedPtr getListenSocket(uint32_t worker_index);
  // Envoy >= 1.20: listen() on every socket from the main thread before the workers start.
  void doFinalPreWorkerInit();
  // True when listen() already happened (doFinalPreWorkerInit), so a worker must not call it.
  bool listenedBeforeWorkers() const { return layout_ == SocketLayout::ReusePort; }
  const Network::Address::InstanceConstSharedPtr& localAddress() const;
  void closeAllSockets();

private:
  Network::SocketSharedPtr createListenSocketAndApplyOptions(
      const Network::Address::InstanceConstSharedPtr& address);

  SocketLayout layout_;
  std::vector<Network::SocketSharedPtr> sockets_;
};

class ListenerImpl {
public:
  ListenerImpl(const std::string& name, const std::string& stat_prefix,
               std::shared_ptr<ListenSocketFactoryImpl> factory, Network::ReadFilter filter)
      : name_(name), stat_prefix_(stat_prefix), factory_(std::move(factory)),
        filter_(std::move(filter)) {}
  const std::string& name() const { return name_; }
  const std::string& statPrefix() const { return stat_prefix_; }
  ListenSocketFactoryImpl& listenSocketFactory() { return *factory_; }
  const Network::ReadFilter& readFilter() const { return filter_; }
  uint32_t backlogSize() const { return 128; }

private:
  std::string name_;
  std::string stat_prefix_;
  std::shared_ptr<ListenSocketFactoryImpl> factory_;
  Network::ReadFilter filter_;
};

} // namespace Server
} // namespace Envoy
