#pragma once

#include "envoy/event/dispatcher.h"
#include "source/common/event/libevent.h"

namespace Envoy {
namespace Event {

class DispatcherImpl;

class FileEventImpl : public FileEvent {
public:
  FileEventImpl(DispatcherImpl& dispatcher, int fd, FileReadyCb cb, uint32_t events);
  ~FileEventImpl() override;
  void setEnabled(uint32_t events) override;

private:
  void assignEvents(uint32_t events, event_base* base);

  FileReadyCb cb_;
  int fd_;
  struct event raw_event_ {};
};

} // namespace Event
} // namespace Envoy
