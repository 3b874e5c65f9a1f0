#pragma once
// Helpers the app's GL-free tests share.
#include "controller.h"

namespace gs::app::test {

// The tiny preset in f64 on the default sentence, random init (no checkpoint, so the tests do
// not depend on assets/tiny.safetensors).
inline ModelSpec tiny_spec() {
  ModelSpec s = Controller::default_spec();
  s.checkpoint.clear();
  return s;
}

// A request that starts a job, and its result taken in (what the next frames would do).
inline void run(Controller& c, const Request& r) {
  c.apply(r);
  c.wait_jobs();
}

}  // namespace gs::app::test
