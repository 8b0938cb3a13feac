#include <stdexcept>

#include "source/common/common/thread.h"

namespace Envoy {
namespace Thread {

ThreadImplPosix::ThreadImplPosix(std::function<void()> thread_routine, const Options& options)
    : thread_routine_(std::move(thread_routine)), name_(options.name_.substr(0, 15)) {
  // pthread_create takes a C function: a captureless lambda, as in Envoy's thread_impl.cc.
  const int rc = pthread_create(
      &thread_handle_, nullptr,
      [](void* arg) -> void* {
        auto* thread = static_cast<ThreadImplPosix*>(arg);
        // Named by the thread itself (prctl(PR_SET_NAME)), before its first syscall of interest,
        // so every traced event of the worker carries its name.
        if (!thread->name_.empty()) {
          pthread_setname_np(pthread_self(), thread->name_.c_str());
        }
        thread->thread_routine_();
        return nullptr;
      },
      this);
  if (rc != 0) {
    throw std::runtime_error("pthread_create failed");
  }
}

void ThreadImplPosix::join() {
  if (!joined_) {
    pthread_join(thread_handle_, nullptr);
    joined_ = true;
  }
}

} // namespace Thread
} // namespace Envoy
