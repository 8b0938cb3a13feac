#pragma once

#include <atomic>
#include <list>
#include <memory>
#include <string>

#include "envoy/network/connection_balancer.h"
#include "envoy/network/listener.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/common/network/connection_impl.h"
#include "source/common/network/tcp_listener_impl.h"
#include "source/common/stats/store_impl.h"
#include "source/server/listener_impl.h"

namespace Envoy {
namespace Server {

class ConnectionHandlerImpl;

// One worker's part of one listener: it accepts on its socket and owns the connections the
// listener's balancer gives it (its own accepts, or, with exact_balance, another worker's).
class ActiveTcpListener : public Network::TcpListenerCallbacks,
                          public Network::BalancedConnectionHandler {
public:
  ActiveTcpListener(ConnectionHandlerImpl& parent, ListenerImpl& config);
  ~ActiveTcpListener() override;
  void onAccept(Network::ConnectionSocketPtr&& socket) override;
  // On this worker's thread. rebalanced: the socket was posted here by the worker that accepted
  // it, already counted, so it is not balanced again.
  void onAcceptWorker(Network::ConnectionSocketPtr&& socket, bool rebalanced);

  uint64_t numConnections() const override { return num_listener_connections_; }
  void incNumConnections() override { ++num_listener_connections_; }
  void post(Network::ConnectionSocketPtr&& socket) override;

private:
  void newConnection(Network::ConnectionSocketPtr&& socket);

  ConnectionHandlerImpl& parent_;
  ListenerImpl& config_;
  std::string worker_stat_prefix_;
  std::unique_ptr<Network::TcpListenerImpl> listener_;
  std::list<Network::ConnectionImpl*> connections_;
  // Read by other workers' balancing under the balancer's lock, written here.
  std::atomic<uint64_t> num_listener_connections_{0};
};

class ConnectionHandlerImpl {
public:
  // stat_name: "worker_<i>" for a worker, "main_thread" for the main thread.
  ConnectionHandlerImpl(Event::DispatcherImpl& dispatcher, uint32_t worker_index,
                        const std::string& stat_name, Stats::StoreImpl& stats);
  void addListener(ListenerImpl& config);
  Event::DispatcherImpl& dispatcher() { return dispatcher_; }
  uint32_t workerIndex() const { return worker_index_; }
  const std::string& statName() const { return stat_name_; }
  Stats::StoreImpl& stats() { return stats_; }

private:
  Event::DispatcherImpl& dispatcher_;
  uint32_t worker_index_;
  std::string stat_name_;
  Stats::StoreImpl& stats_;
  std::list<std::unique_ptr<ActiveTcpListener>> listeners_;
};

} // namespace Server
} // namespace Envoy
