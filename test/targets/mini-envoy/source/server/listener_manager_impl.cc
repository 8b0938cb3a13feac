#include "source/server/listener_manager_impl.h"

#include "source/common/network/connection_impl.h"
#include "source/common/stats/store_impl.h"

namespace Envoy {
namespace Server {
namespace {

// Like an Envoy route with a direct_response: a complete HTTP request gets a fixed answer and
// the connection closes, so a load generator (wrk) can drive the listeners. A connection that
// sends no request stays open until its peer closes it, as before.
bool directResponse(Network::ConnectionImpl& connection, std::string& buffer) {
  if (buffer.find("\r\n\r\n") == std::string::npos) {
    return buffer.size() > 65536;
  }
  connection.write("HTTP/1.1 200 OK\r\ncontent-length: 3\r\nserver: envoy\r\n"
                   "connection: close\r\n\r\nok\n");
  return true;
}

} // namespace

ListenerManagerImpl::ListenerManagerImpl(Event::DispatcherImpl& main_dispatcher,
                                         Stats::StoreImpl& stats, uint32_t concurrency,
                                         bool reuse_port, bool exact_balance)
    : main_dispatcher_(main_dispatcher), stats_(stats), concurrency_(concurrency),
      reuse_port_(reuse_port), exact_balance_(exact_balance) {
  for (uint32_t i = 0; i < concurrency_; ++i) {
    workers_.push_back(std::make_unique<WorkerImpl>(i, stats_));
  }
}

ListenerManagerImpl::~ListenerManagerImpl() { stopWorkers(); }

void ListenerManagerImpl::addOrUpdateListener(const Network::Address::InstanceConstSharedPtr& address,
                                              const std::string& version_info,
                                              bool added_via_api) {
  addOrUpdateListenerInternal(address, version_info, added_via_api);
}

void ListenerManagerImpl::addOrUpdateListenerInternal(
    const Network::Address::InstanceConstSharedPtr& address, const std::string& version_info,
    bool) {
  std::shared_ptr<ListenSocketFactoryImpl> factory;
  setNewOrDrainingSocketFactory("", address, factory);
  // Named like Istio's listeners: "<ip>_<port>", from the port actually bound.
  const auto& bound = factory->localAddress();
  const std::string name = bound->ip() + "_" + std::to_string(bound->port());
  listeners_.push_back(std::make_unique<ListenerImpl>(
      name, Stats::sanitizeStatName(bound->asString()), factory, directResponse,
      exact_balance_ ? ConnectionBalanceType::Exact : ConnectionBalanceType::None, version_info));
  stats_.add("listener_manager.listener_added", 1);
  stats_.set("listener_manager.total_listeners_active", static_cast<int64_t>(listeners_.size()));
}

void ListenerManagerImpl::setNewOrDrainingSocketFactory(
    const std::string&, const Network::Address::InstanceConstSharedPtr& address,
    std::shared_ptr<ListenSocketFactoryImpl>& factory) {
  factory = createListenSocketFactory(address);
}

std::shared_ptr<ListenSocketFactoryImpl>
ListenerManagerImpl::createListenSocketFactory(const Network::Address::InstanceConstSharedPtr& address) {
  return std::make_shared<ListenSocketFactoryImpl>(
      address, reuse_port_ ? SocketLayout::ReusePort : SocketLayout::DuplicatePerWorker,
      concurrency_);
}

void ListenerManagerImpl::startWorkers(std::function<void()> done) {
  auto pending = std::make_shared<size_t>(workers_.size() * listeners_.size());
  if (*pending == 0) {
    main_dispatcher_.post(done);
  }
  for (auto& listener : listeners_) {
    listener->listenSocketFactory().doFinalPreWorkerInit();
  }
  for (auto& worker : workers_) {
    for (auto& listener : listeners_) {
      worker->addListener(*listener, [this, pending, done](bool) {
        main_dispatcher_.post([pending, done]() {
          if (--*pending == 0) {
            done();
          }
        });
      });
    }
    worker->start();
  }
}

void ListenerManagerImpl::stopWorkers() {
  for (auto& worker : workers_) {
    worker->stop();
  }
  for (auto& listener : listeners_) {
    listener->listenSocketFactory().closeAllSockets();
  }
}

} // namespace Server
} // namespace Envoy
