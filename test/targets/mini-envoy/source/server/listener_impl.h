#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "source/common/network/connection_balancer_impl.h"
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

// Listener.connection_balance_config.
enum class ConnectionBalanceType {
  // Unset: the worker that accepts a connection owns it.
  None,
  // exact_balance: the worker with the fewest connections owns it.
  Exact,
};

class ListenerImpl {
public:
  ListenerImpl(const std::string& name, const std::string& stat_prefix,
               std::shared_ptr<ListenSocketFactoryImpl> factory, Network::ReadFilter filter,
               ConnectionBalanceType balance_type = ConnectionBalanceType::None,
               const std::string& version_info = "")
      : name_(name), stat_prefix_(stat_prefix), factory_(std::move(factory)),
        filter_(std::move(filter)), balance_type_(balance_type), version_info_(version_info),
        last_updated_(std::chrono::system_clock::now()) {
    if (balance_type_ == ConnectionBalanceType::Exact) {
      connection_balancer_ = std::make_shared<Network::ExactConnectionBalancerImpl>();
    } else {
      connection_balancer_ = std::make_shared<Network::NopConnectionBalancerImpl>();
    }
  }
  const std::string& name() const { return name_; }
  const std::string& statPrefix() const { return stat_prefix_; }
  ListenSocketFactoryImpl& listenSocketFactory() { return *factory_; }
  const ListenSocketFactoryImpl& listenSocketFactory() const { return *factory_; }
  const Network::ReadFilter& readFilter() const { return filter_; }
  uint32_t backlogSize() const { return 128; }
  ConnectionBalanceType connectionBalanceType() const { return balance_type_; }
  Network::ConnectionBalancer& connectionBalancer() { return *connection_balancer_; }
  // What config_dump shows in the listener's active_state.
  const std::string& versionInfo() const { return version_info_; }
  std::chrono::system_clock::time_point lastUpdated() const { return last_updated_; }

private:
  std::string name_;
  std::string stat_prefix_;
  std::shared_ptr<ListenSocketFactoryImpl> factory_;
  Network::ReadFilter filter_;
  ConnectionBalanceType balance_type_;
  Network::ConnectionBalancerSharedPtr connection_balancer_;
  std::string version_info_;
  std::chrono::system_clock::time_point last_updated_;
};

} // namespace Server
} // namespace Envoy
