#pragma once

#include <pthread.h>

#include <functional>
#include <string>

namespace Envoy {
namespace Thread {

struct Options {
  std::string name_;
};

class ThreadImplPosix {
public:
  ThreadImplPosix(std::function<void()> thread_routine, const Options& options);
  void join();

private:
  std::function<void()> thread_routine_;
  std::string name_;
  pthread_t thread_handle_{};
  bool joined_{false};
};

} // namespace Thread
} // namespace Envoy
