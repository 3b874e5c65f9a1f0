#include "gradscope/threads.h"

#include <Eigen/Core>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <thread>

namespace gs {

int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

void set_threads(int n) {
  if (n <= 0) n = hardware_threads();
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
  Eigen::setNbThreads(n);
}

int threads() { return Eigen::nbThreads(); }

const char* gemm_backend() {
#ifdef GRADSCOPE_OPENBLAS
  return "OpenBLAS (OpenMP)";
#else
  return "Eigen";
#endif
}

}  // namespace gs
