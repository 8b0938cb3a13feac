#pragma once

#include <functional>
#include <string>

#include "envoy/event/dispatcher.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/common/network/listen_socket_impl.h"

namespace Envoy {
namespace Network {

class ConnectionImpl;
// Gets what was read so far; returns the bytes to write back and whether to close after them.
using ReadFilter = std::function<bool(ConnectionImpl&, std::string& buffer)>;

class ConnectionImpl : public Event::DeferredDeletable {
public:
  ConnectionImpl(Event::DispatcherImpl& dispatcher, ConnectionSocketPtr&& socket,
                 ReadFilter filter, std::function<void(ConnectionImpl&)> on_close);
  void noDelay(bool enable);
  void write(const std::string& data);
  void close();

private:
  void onFileEvent(uint32_t events);
  void onReadReady();

  Event::DispatcherImpl& dispatcher_;
  ConnectionSocketPtr socket_;
  ReadFilter filter_;
  std::function<void(ConnectionImpl&)> on_close_;
  std::string read_buffer_;
  Event::FileEventPtr file_event_;
  bool closed_{false};
};

} // namespace Network
} // namespace Envoy
