#pragma once
// Marks a pure virtual method, as Envoy's own headers do.
#define PURE = 0
