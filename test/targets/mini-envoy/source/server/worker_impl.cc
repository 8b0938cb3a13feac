#include "source/server/worker_impl.h"

namespace Envoy {
namespace Server {

WorkerImpl::WorkerImpl(uint32_t index, Stats::StoreImpl& stats)
    : dispatcher_(std::make_unique<Event::DispatcherImpl>("worker_" + std::to_string(index))),
      handler_(std::make_unique<ConnectionHandlerImpl>(*dispatcher_, index, dispatcher_->name(),
                                                       stats)) {}

WorkerImpl::~WorkerImpl() { stop(); }

void WorkerImpl::addListener(ListenerImpl& listener, std::function<void(bool)> completion) {
  dispatcher_->post([this, &listener, completion]() -> void {
    handler_->addListener(listener);
    completion(true);
  });
}

void WorkerImpl::start() {
  thread_ = std::make_unique<Thread::ThreadImplPosix>([this]() -> void { threadRoutine(); },
                                                      Thread::Options{"wrk:" + dispatcher_->name()});
}

void WorkerImpl::stop() {
  if (thread_ != nullptr) {
    dispatcher_->exit();
    thread_->join();
    thread_.reset();
  }
}

void WorkerImpl::threadRoutine() {
  dispatcher_->run(Event::Dispatcher::RunType::Block);
  // The worker's listen fds and connections are closed by the worker itself, as in Envoy.
  handler_.reset();
}

} // namespace Server
} // namespace Envoy
