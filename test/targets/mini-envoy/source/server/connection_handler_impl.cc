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
}

ActiveTcpListener::~ActiveTcpListener() {
  // close() unlinks the connection from connections_: walk a copy.
  const auto open_connections = connections_;
  for (auto* connection : open_connections) {
    connection->close();
  }
}

void ActiveTcpListener::onAccept(Network::ConnectionSocketPtr&& socket) {
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
        connections_.remove(&closed);
        parent_.dispatcher().deferredDelete(std::unique_ptr<Event::DeferredDeletable>(&closed));
      });
  connections_.push_back(connection);
}

} // namespace Server
} // namespace Envoy
