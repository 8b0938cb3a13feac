#include "source/common/event/file_event_impl.h"

#include "source/common/event/dispatcher_impl.h"

namespace Envoy {
namespace Event {

FileEventImpl::FileEventImpl(DispatcherImpl& dispatcher, int fd, FileReadyCb cb, uint32_t events)
    : cb_(std::move(cb)), fd_(fd) {
  assignEvents(events, &dispatcher.base());
  event_add(&raw_event_, nullptr);
}

FileEventImpl::~FileEventImpl() { event_del(&raw_event_); }

void FileEventImpl::setEnabled(uint32_t events) {
  event_del(&raw_event_);
  if (events != 0) {
    event_base* base = raw_event_.ev_base;
    assignEvents(events, base);
    event_add(&raw_event_, nullptr);
  }
}

void FileEventImpl::assignEvents(uint32_t events, event_base* base) {
  // A captureless lambda converted to a C function pointer: clang names its thunk
  // `FileEventImpl::assignEvents(unsigned int, event_base*)::$_N::__invoke`, as in Envoy's stacks.
  event_assign(
      &raw_event_, base, fd_,
      EV_PERSIST | ((events & FileReadyType::Read) ? EV_READ : 0) |
          ((events & FileReadyType::Write) ? EV_WRITE : 0),
      [](evutil_socket_t, short what, void* arg) -> void {
        auto* event = static_cast<FileEventImpl*>(arg);
        uint32_t ready = 0;
        if (what & EV_READ) {
          ready |= FileReadyType::Read;
        }
        if (what & EV_WRITE) {
          ready |= FileReadyType::Write;
        }
        event->cb_(ready);
      },
      this);
}

} // namespace Event
} // namespace Envoy
