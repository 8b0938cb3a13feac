#pragma once

#include "envoy/event/dispatcher.h"
#include "envoy/network/listener.h"

namespace Envoy {
namespace Event {
class DispatcherImpl;
}
namespace Network {

class TcpListenerImpl {
public:
  TcpListenerImpl(Event::DispatcherImpl& dispatcher, SocketSharedPtr socket,
                  TcpListenerCallbacks& cb, bool bind_to_port, bool listen_needed,
                  uint32_t backlog_size);

private:
  void setupServerSocket(Event::DispatcherImpl& dispatcher, Socket& socket);
  void onSocketEvent(short flags);

  SocketSharedPtr socket_;
  TcpListenerCallbacks& cb_;
  uint32_t backlog_size_;
  Event::FileEventPtr file_event_;
};

} // namespace Network
} // namespace Envoy
