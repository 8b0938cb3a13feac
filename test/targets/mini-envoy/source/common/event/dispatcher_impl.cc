#include "source/common/event/dispatcher_impl.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "source/common/event/file_event_impl.h"
#include "source/common/network/tcp_listener_impl.h"

namespace Envoy {
namespace Event {

DispatcherImpl::DispatcherImpl(const std::string& name)
    : name_(name), base_(event_base_new()), post_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  post_event_ = createFileEvent(
      post_fd_,
      [this](uint32_t) {
        uint64_t count;
        while (read(post_fd_, &count, sizeof(count)) > 0) {
        }
        runPostCallbacks();
      },
      FileReadyType::Read);
  event_base_set_batch_hook(
      base_, [](void* arg) { static_cast<DispatcherImpl*>(arg)->clearDeferredDeleteList(); }, this);
}

DispatcherImpl::~DispatcherImpl() {
  clearDeferredDeleteList();
  for (auto& signal_event : signal_events_) {
    signal_event.second.reset();
    close(signal_event.first);
  }
  post_event_.reset();
  close(post_fd_);
  event_base_free(base_);
}

void DispatcherImpl::post(PostCb callback) {
  {
    std::lock_guard<std::mutex> lock(post_lock_);
    post_callbacks_.push_back(std::move(callback));
  }
  const uint64_t one = 1;
  (void)!write(post_fd_, &one, sizeof(one));
}

void DispatcherImpl::runPostCallbacks() {
  std::vector<PostCb> callbacks;
  {
    std::lock_guard<std::mutex> lock(post_lock_);
    callbacks.swap(post_callbacks_);
  }
  for (auto& callback : callbacks) {
    callback();
  }
}

void DispatcherImpl::run(RunType) {
  // Callbacks posted before the loop started (a worker's listeners) run first, as in Envoy.
  runPostCallbacks();
  event_base_loop(base_, 0);
  clearDeferredDeleteList();
}

void DispatcherImpl::exit() {
  post([this]() { event_base_loopbreak(base_); });
}

FileEventPtr DispatcherImpl::createFileEvent(int fd, FileReadyCb cb, uint32_t events) {
  return std::make_unique<FileEventImpl>(*this, fd, std::move(cb), events);
}

std::unique_ptr<Network::TcpListenerImpl>
DispatcherImpl::createListener(Network::SocketSharedPtr&& socket, Network::TcpListenerCallbacks& cb,
                               bool bind_to_port, bool listen_needed, uint32_t backlog_size) {
  return std::make_unique<Network::TcpListenerImpl>(*this, std::move(socket), cb, bind_to_port,
                                                    listen_needed, backlog_size);
}

void DispatcherImpl::deferredDelete(std::unique_ptr<DeferredDeletable>&& to_delete) {
  to_delete_.push_back(std::move(to_delete));
}

void DispatcherImpl::clearDeferredDeleteList() {
  while (!to_delete_.empty()) {
    std::vector<std::unique_ptr<DeferredDeletable>> batch;
    batch.swap(to_delete_);
  }
}

void DispatcherImpl::listenForSignal(int signum, PostCb cb) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, signum);
  const int fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  auto event = createFileEvent(
      fd,
      [fd, cb](uint32_t) {
        signalfd_siginfo info;
        while (read(fd, &info, sizeof(info)) > 0) {
        }
        cb();
      },
      FileReadyType::Read);
  signal_events_.emplace_back(fd, std::move(event));
}

} // namespace Event
} // namespace Envoy
