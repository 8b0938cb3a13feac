#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "source/server/listener_impl.h"
#include "source/server/worker_impl.h"

namespace Envoy {
namespace Server {

class ListenerManagerImpl {
public:
  ListenerManagerImpl(Event::DispatcherImpl& main_dispatcher, Stats::StoreImpl& stats,
                      uint32_t concurrency, bool reuse_port, bool exact_balance);
  ~ListenerManagerImpl();
  void addOrUpdateListener(const Network::Address::InstanceConstSharedPtr& address,
                           const std::string& version_info, bool added_via_api);
  // Hands every listener to every worker, starts them; done() runs on the main thread once all
  // workers have set their listeners up.
  void startWorkers(std::function<void()> done);
  void stopWorkers();
  const std::vector<std::unique_ptr<ListenerImpl>>& listeners() const { return listeners_; }

private:
  void addOrUpdateListenerInternal(const Network::Address::InstanceConstSharedPtr& address,
                                   const std::string& version_info, bool added_via_api);
  void setNewOrDrainingSocketFactory(const std::string& name,
                                     const Network::Address::InstanceConstSharedPtr& address,
                                     std::shared_ptr<ListenSocketFactoryImpl>& factory);
  std::shared_ptr<ListenSocketFactoryImpl>
  createListenSocketFactory(const Network::Address::InstanceConstSharedPtr& address);

  Event::DispatcherImpl& main_dispatcher_;
  Stats::StoreImpl& stats_;
  uint32_t concurrency_;
  bool reuse_port_;
  bool exact_balance_;
  std::vector<std::unique_ptr<WorkerImpl>> workers_;
  std::vector<std::unique_ptr<ListenerImpl>> listeners_;
};

} // namespace Server
} // namespace Envoy
