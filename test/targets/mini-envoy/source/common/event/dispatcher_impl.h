#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "envoy/event/dispatcher.h"
#include "source/common/event/libevent.h"
#include "source/common/network/listen_socket_impl.h"

namespace Envoy {
namespace Network {
class TcpListenerCallbacks;
class TcpListenerImpl;
} // namespace Network

namespace Event {

class DeferredDeletable {
public:
  virtual ~DeferredDeletable() = default;
};

class DispatcherImpl : public Dispatcher {
public:
  explicit DispatcherImpl(const std::string& name);
  ~DispatcherImpl() override;

  event_base& base() { return *base_; }
  const std::string& name() override { return name_; }
  void post(PostCb callback) override;
  void run(RunType type) override;
  void exit() override;
  FileEventPtr createFileEvent(int fd, FileReadyCb cb, uint32_t events) override;
  std::unique_ptr<Network::TcpListenerImpl>
  createListener(Network::SocketSharedPtr&& socket, Network::TcpListenerCallbacks& cb,
                 bool bind_to_port, bool listen_needed, uint32_t backlog_size);
  // Destroys the object after the current batch of callbacks (it may be on the stack now).
  void deferredDelete(std::unique_ptr<DeferredDeletable>&& to_delete);
  // Calls cb on this dispatcher when signum arrives (the signal must be blocked in all threads).
  void listenForSignal(int signum, PostCb cb);

private:
  void runPostCallbacks();
  void clearDeferredDeleteList();

  std::string name_;
  event_base* base_;
  int post_fd_;
  FileEventPtr post_event_;
  std::mutex post_lock_;
  std::vector<PostCb> post_callbacks_;
  std::vector<std::unique_ptr<DeferredDeletable>> to_delete_;
  std::vector<std::pair<int, FileEventPtr>> signal_events_;
};

} // namespace Event
} // namespace Envoy
