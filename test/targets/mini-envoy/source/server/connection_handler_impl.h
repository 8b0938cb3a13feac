#pragma once

#include <list>
#include <memory>
#include <string>

#include "envoy/network/listener.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/common/network/connection_impl.h"
#include "source/common/network/tcp_listener_impl.h"
#include "source/common/stats/store_impl.h"
#include "source/server/listener_impl.h"

namespace Envoy {
namespace Server {

class ConnectionHandlerImpl;

class ActiveTcpListener : public Network::TcpListenerCallbacks {
public:
  ActiveTcpListener(ConnectionHandlerImpl& parent, ListenerImpl& config);
  ~ActiveTcpListener() override;
  void onAccept(Network::ConnectionSocketPtr&& socket) override;

private:
  ConnectionHandlerImpl& parent_;
  ListenerImpl& config_;
  std::string worker_stat_prefix_;
  std::unique_ptr<Network::TcpListenerImpl> listener_;
  std::list<Network::ConnectionImpl*> connections_;
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
