#pragma once
// How much memory this process may use, and the one check every large allocation goes through
// before it is made: a size that will not fit is refused with one line saying how much it needs
// and how much there is, instead of running for a minute and dying (or taking the machine).
#include <string>

namespace gs {

// The least of: the machine's physical memory, the memory limit of this process's cgroup (a
// container's limit) and its address-space limit (ulimit -v). 0 when none can be read.
double memory_limit_bytes();

// Throws gs::Error "<what> needs about X GiB, more than the Y GiB this machine allows (…)" when
// `need` exceeds most (80%) of memory_limit_bytes(). `what` names the thing, e.g. "this model
// and its tape" or "x.safetensors: its 3 tensors".
void check_memory(double need, const std::string& what);

// "1.2 GiB", "340 MiB", "12 KiB": a byte count for a message.
std::string human_bytes(double bytes);

}  // namespace gs
