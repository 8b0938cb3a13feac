#include "source/server/connection_handler_impl.h"

namespace Envoy {
namespace Server {

ConnectionHandlerImpl::ConnectionHandlerImpl(Event::DispatcherImpl& dispatcher,
                                             uint32_t worker_index, const std::string& stat_name,
                                             Stats::StoreImpl& stats)
    : dispatcher_(dispatcher), worker_index_(worker_index), stat_name_(stat_name), stats_(stats) {}

void ConnectionHandlerImpl::addListener(ListenerImpl& config) {
  listeners_.push_back(std::make_unique<ActiveTcpListener>(*this, config));
}

ActiveTcpListener::ActiveTcpListener(ConnectionHandlerImpl& parent, ListenerImpl& config)
    : parent_(parent), config_(config),
      worker_stat_prefix_("listener." + config.statPrefix() + "." + parent.statName() + ".") {
  Network::SocketSharedPtr socket =
      config.listenSocketFactory().getListenSocket(parent.workerIndex());
  listener_ = parent.dispatcher().createListener(std::move(socket), *this, true,
                                                 !config.listenSocketFactory().listenedBeforeWorkers(),
                                                 config.backlogSize());
  parent_.stats().add(worker_stat_prefix_ + "downstream_cx_total", 0);
  parent_.stats().add(worker_stat_prefix_ + "downstream_cx_active", 0);
  config_.connectionBalancer().registerHandler(*this);
}

ActiveTcpListener::~ActiveTcpListener() {
  // First, so that no other worker hands this one a socket any more.
  config_.connectionBalancer().unregisterHandler(*this);
  // close() unlinks the connection from connections_: walk a copy.
  const auto open_connections = connections_;
  for (auto* connection : open_connections) {
    connection->close();
  }
}

void ActiveTcpListener::onAccept(Network::ConnectionSocketPtr&& socket) {
  onAcceptWorker(std::move(socket), false);
}

void ActiveTcpListener::onAcceptWorker(Network::ConnectionSocketPtr&& socket, bool rebalanced) {
  if (!rebalanced) {
    Network::BalancedConnectionHandler& target =
        config_.connectionBalancer().balanceConnection(socket, *this);
    if (&target != this) {
      return; // posted to the target worker, which creates and counts the connection
    }
  }
  newConnection(std::move(socket));
}

void ActiveTcpListener::post(Network::ConnectionSocketPtr&& socket) {
  // A posted callback must be copyable: the socket travels in a shared box.
  auto socket_to_rebalance = std::make_shared<Network::ConnectionSocketPtr>(std::move(socket));
  parent_.dispatcher().post([this, socket_to_rebalance]() -> void {
    onAcceptWorker(std::move(*socket_to_rebalance), true);
  });
}

// The per-worker stats count the connections a worker owns, which with exact_balance are not
// always the ones it accepted (as in Envoy, where the owning handler increments them).
void ActiveTcpListener::newConnection(Network::ConnectionSocketPtr&& socket) {
  auto& stats = parent_.stats();
  stats.add("listener." + config_.statPrefix() + ".downstream_cx_total", 1);
  stats.add("listener." + config_.statPrefix() + ".downstream_cx_active", 1);
  stats.add(worker_stat_prefix_ + "downstream_cx_total", 1);
  stats.add(worker_stat_prefix_ + "downstream_cx_active", 1);
  auto* connection = new Network::ConnectionImpl(
      parent_.dispatcher(), std::move(socket), config_.readFilter(),
      [this](Network::ConnectionImpl& closed) {
        auto& stats = parent_.stats();
        stats.add("listener." + config_.statPrefix() + ".downstream_cx_active", -1);
        stats.add(worker_stat_prefix_ + "downstream_cx_active", -1);
        --num_listener_connections_;
        connections_.remove(&closed);
        parent_.dispatcher().deferredDelete(std::unique_ptr<Event::DeferredDeletable>(&closed));
      });
  connections_.push_back(connection);
}

} // namespace Server
} // namespace Envoy
