#pragma once

// A tiny libevent look-alike over epoll, with libevent's C entry points, so that stacks show
// Envoy's real shape: C code calling back into C++ through a captureless lambda.

extern "C" {

typedef int evutil_socket_t;
typedef void (*event_callback_fn)(evutil_socket_t, short, void*);

#define EV_READ 0x02
#define EV_WRITE 0x04
#define EV_PERSIST 0x10
#define EV_ET 0x20

struct event_base;

struct event {
  struct event_base* ev_base;
  evutil_socket_t ev_fd;
  short ev_events;
  event_callback_fn ev_callback;
  void* ev_arg;
  int ev_added;
};

struct event_base* event_base_new(void);
void event_base_free(struct event_base* base);
int event_assign(struct event* ev, struct event_base* base, evutil_socket_t fd, short events,
                 event_callback_fn callback, void* arg);
int event_add(struct event* ev, const void* timeout);
int event_del(struct event* ev);
int event_base_loop(struct event_base* base, int flags);
int event_base_loopbreak(struct event_base* base);
// Called after each batch of callbacks: where deferred deletes are safe.
void event_base_set_batch_hook(struct event_base* base, void (*hook)(void*), void* arg);
}
