#pragma once

#include <functional>
#include <memory>

#include "source/common/common/thread.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/server/connection_handler_impl.h"

namespace Envoy {
namespace Server {

class WorkerImpl {
public:
  WorkerImpl(uint32_t index, Stats::StoreImpl& stats);
  ~WorkerImpl();
  // Runs on the worker once it starts: the listener is set up by the worker's own thread.
  void addListener(ListenerImpl& listener, std::function<void(bool)> completion);
  void start();
  void stop();

private:
  void threadRoutine();

  std::unique_ptr<Event::DispatcherImpl> dispatcher_;
  std::unique_ptr<ConnectionHandlerImpl> handler_;
  std::unique_ptr<Thread::ThreadImplPosix> thread_;
};

} // namespace Server
} // namespace Envoy
