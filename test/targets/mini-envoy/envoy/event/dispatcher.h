#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "envoy/common/pure.h"

namespace Envoy {
namespace Event {

enum FileReadyType : uint32_t { Read = 0x1, Write = 0x2, Closed = 0x4 };
using FileReadyCb = std::function<void(uint32_t events)>;
using PostCb = std::function<void()>;

class FileEvent {
public:
  virtual ~FileEvent() = default;
  // 0 unregisters the fd now (safe inside its own callback; the object is deleted later).
  virtual void setEnabled(uint32_t events) PURE;
};
using FileEventPtr = std::unique_ptr<FileEvent>;

class Dispatcher {
public:
  enum class RunType { Block, NonBlock, RunUntilExit };
  virtual ~Dispatcher() = default;
  virtual const std::string& name() PURE;
  virtual void post(PostCb callback) PURE;
  virtual void run(RunType type) PURE;
  virtual void exit() PURE;
  virtual FileEventPtr createFileEvent(int fd, FileReadyCb cb, uint32_t events) PURE;
};

} // namespace Event
} // namespace Envoy
