#pragma once
// The engine's thread count (Eigen's matmuls and the op loops share one OpenMP pool).
namespace gs {
void set_threads(int n);  // n <= 0: all cores
int threads();
int hardware_threads();
// Who computes the matrix products: "OpenBLAS (OpenMP)" or "Eigen" (see CMakeLists.txt).
const char* gemm_backend();
}  // namespace gs
