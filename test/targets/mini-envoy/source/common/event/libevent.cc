#include "source/common/event/libevent.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

extern "C" {

struct event_base {
  int epoll_fd;
  volatile int break_requested;
  void (*batch_hook)(void*);
  void* batch_hook_arg;
};

void event_base_set_batch_hook(struct event_base* base, void (*hook)(void*), void* arg) {
  base->batch_hook = hook;
  base->batch_hook_arg = arg;
}

struct event_base* event_base_new(void) {
  auto* base = static_cast<struct event_base*>(calloc(1, sizeof(struct event_base)));
  base->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  return base;
}

void event_base_free(struct event_base* base) {
  close(base->epoll_fd);
  free(base);
}

int event_assign(struct event* ev, struct event_base* base, evutil_socket_t fd, short events,
                 event_callback_fn callback, void* arg) {
  ev->ev_base = base;
  ev->ev_fd = fd;
  ev->ev_events = events;
  ev->ev_callback = callback;
  ev->ev_arg = arg;
  ev->ev_added = 0;
  return 0;
}

int event_add(struct event* ev, const void* /*timeout*/) {
  epoll_event e{};
  e.events = ((ev->ev_events & EV_READ) ? uint32_t{EPOLLIN} : 0u) |
             ((ev->ev_events & EV_WRITE) ? uint32_t{EPOLLOUT} : 0u) |
             ((ev->ev_events & EV_ET) ? uint32_t{EPOLLET} : 0u);
  e.data.ptr = ev;
  const int op = ev->ev_added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  ev->ev_added = 1;
  return epoll_ctl(ev->ev_base->epoll_fd, op, ev->ev_fd, &e);
}

int event_del(struct event* ev) {
  if (!ev->ev_added) {
    return 0;
  }
  ev->ev_added = 0;
  return epoll_ctl(ev->ev_base->epoll_fd, EPOLL_CTL_DEL, ev->ev_fd, nullptr);
}

int event_base_loopbreak(struct event_base* base) {
  base->break_requested = 1;
  return 0;
}

static int event_process_active_single_queue(struct event_base* base, epoll_event* ready, int n) {
  for (int i = 0; i < n && !base->break_requested; ++i) {
    auto* ev = static_cast<struct event*>(ready[i].data.ptr);
    short what = 0;
    if (ready[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
      what |= EV_READ;
    }
    if (ready[i].events & EPOLLOUT) {
      what |= EV_WRITE;
    }
    ev->ev_callback(ev->ev_fd, what, ev->ev_arg);
  }
  return n;
}

int event_base_loop(struct event_base* base, int /*flags*/) {
  epoll_event ready[64];
  base->break_requested = 0;
  while (!base->break_requested) {
    const int n = epoll_wait(base->epoll_fd, ready, 64, -1);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return -1;
    }
    event_process_active_single_queue(base, ready, n);
    if (base->batch_hook != nullptr) {
      base->batch_hook(base->batch_hook_arg);
    }
  }
  return 0;
}
}
