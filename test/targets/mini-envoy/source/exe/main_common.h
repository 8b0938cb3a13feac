#pragma once

namespace Envoy {

class MainCommon {
public:
  static int main(int argc, char** argv);
};

} // namespace Envoy
