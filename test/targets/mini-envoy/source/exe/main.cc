#include "source/exe/main_common.h"

int main(int argc, char** argv) { return Envoy::MainCommon::main(argc, argv); }
