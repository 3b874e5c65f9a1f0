#include "gradscope/fileio.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "gradscope/error.h"
#include "gradscope/memory.h"

namespace gs::io {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// [SECTION] temporary files that a signal must remove

// Writes in progress register their temporary file here; the signal handler unlinks every armed
// slot. Lock-free atomics and unlink(2) are all it uses, so it is async-signal-safe.
struct TempSlot {
  std::atomic<int> state{0};  // 0 free, 1 being filled, 2 armed
  char path[PATH_MAX];
};
TempSlot g_temps[16];

int arm_temp(const std::string& path) {
  if (path.size() >= sizeof g_temps[0].path) return -1;
  for (int i = 0; i < 16; ++i) {
    int expected = 0;
    if (g_temps[i].state.compare_exchange_strong(expected, 1)) {
      std::memcpy(g_temps[i].path, path.c_str(), path.size() + 1);
      g_temps[i].state.store(2);
      return i;
    }
  }
  return -1;  // more writes at once than slots: that one is not cleaned up by a signal
}

void disarm_temp(int slot) {
  if (slot >= 0) g_temps[slot].state.store(0);
}

constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

extern "C" void remove_temporaries_and_die(int sig) {
  for (auto& t : g_temps)
    if (t.state.load() == 2) ::unlink(t.path);
  ::signal(sig, SIG_DFL);
  ::raise(sig);  // delivered with its default action once this handler returns
}

// Blocks the cleanup signals for its lifetime: a temporary is created and registered with no
// signal in between.
class SignalsHeld {
 public:
  SignalsHeld() {
    sigset_t s;
    sigemptyset(&s);
    for (int sig : kCleanupSignals) sigaddset(&s, sig);
    pthread_sigmask(SIG_BLOCK, &s, &old_);
  }
  ~SignalsHeld() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

 private:
  sigset_t old_;
};

// [SECTION] paths

std::string dir_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

long name_max(const std::string& dir) {
  errno = 0;
  const long n = ::pathconf(dir.c_str(), _PC_NAME_MAX);
  return n > 0 ? n : NAME_MAX;
}

struct WriteError {
  int err;
};

}  // namespace

const char* kind_of(unsigned mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

// [SECTION] reading

Reader::Reader(const std::string& path) : path_(path) {
  if (path.empty()) throw Error("(empty file name): no file given");
  // stat first: a device is refused without being opened (opening some has side effects);
  // then open without blocking and check again, in case the path changed in between.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw Error(path + ": cannot open: " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) throw Error(path + ": is " + kind_of(st.st_mode) + ", not a regular file");
  do fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  while (fd_ < 0 && errno == EINTR);
  if (fd_ < 0) throw Error(path + ": cannot open: " + errno_text(errno));
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    ::close(fd_);
    throw Error(path + ": cannot stat: " + errno_text(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw Error(path + ": is " + kind_of(st.st_mode) + ", not a regular file");
  }
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0) ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
  size_ = static_cast<uint64_t>(st.st_size);
}

Reader::~Reader() {
  if (fd_ >= 0) ::close(fd_);
}

size_t Reader::raw_read(uint8_t* p, size_t n) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd_, p + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw Error(path_ + ": cannot read: " + errno_text(errno));
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

size_t Reader::read_some(void* dst, size_t n) {
  // Small reads (a header's many tiny tensors) come from a buffer, large ones straight in.
  if (n == 0) return 0;  // (dst may be null then)
  auto* p = static_cast<uint8_t*>(dst);
  size_t got = std::min(n, buf_len_ - buf_pos_);
  if (got) std::memcpy(p, buf_.data() + buf_pos_, got);
  buf_pos_ += got;
  if (got < n) {
    if (n - got >= kBuffer) {
      got += raw_read(p + got, n - got);
    } else {
      buf_.resize(kBuffer);
      buf_len_ = raw_read(buf_.data(), kBuffer);
      buf_pos_ = std::min(n - got, buf_len_);
      if (buf_pos_) std::memcpy(p + got, buf_.data(), buf_pos_);
      got += buf_pos_;
    }
  }
  done_ += got;
  return got;
}

void Reader::read_exact(void* dst, size_t n) {
  if (read_some(dst, n) != n)
    throw Error(path_ + ": the file ended after " + std::to_string(done_) + " of its " + std::to_string(size_) +
                " bytes (it changed while being read)");
}

void Reader::expect_end() {
  uint8_t extra;
  if (read_some(&extra, 1) != 0)
    throw Error(path_ + ": the file grew while being read (it was " + std::to_string(size_) + " bytes when opened)");
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && static_cast<uint64_t>(st.st_size) != size_)
    throw Error(path_ + ": the file changed size while being read (" + std::to_string(size_) + " bytes, now " +
                std::to_string(st.st_size) + ")");
}

std::string read_text(const std::string& path, uint64_t max_bytes, const std::string& what) {
  Reader r(path);
  auto too_big = [&](const std::string& size) {
    return Error(path + ": the file is " + size + ", over the " + human_bytes(double(max_bytes)) + " limit for " + what);
  };
  if (r.size() > max_bytes) throw too_big(human_bytes(double(r.size())));
  // Read to the end, not only st_size bytes: some files (/proc) report a size of 0.
  std::string text(static_cast<size_t>(r.size()), '\0');
  size_t got = r.read_some(text.data(), text.size());
  text.resize(got);
  char chunk[1 << 16];
  for (;;) {
    const size_t n = r.read_some(chunk, sizeof chunk);
    if (n == 0) break;
    if (text.size() + n > max_bytes) throw too_big("over " + human_bytes(double(max_bytes)) + " (it grew while being read)");
    text.append(chunk, n);
  }
  return text;
}

// [SECTION] writing

void Sink::write(const void* p, size_t n) {
  auto* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t w = ::write(fd_, c, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw WriteError{errno};
    }
    c += w;
    n -= static_cast<size_t>(w);
    written_ += static_cast<uint64_t>(w);
  }
}

std::string check_destination(const std::string& path) {
  if (path.empty()) throw Error("(empty file name): no file to write to");
  if (path.back() == '/') throw Error(path + ": names a directory (it ends in '/'), not a file to write");
  const std::string base = base_of(path);
  if (base == "." || base == "..") throw Error(path + ": names a directory, not a file to write");
  auto check_name = [&](const std::string& file) {
    const long limit = name_max(dir_of(file));
    if (static_cast<long>(base_of(file).size()) > limit)
      throw Error(path + ": the file name is " + std::to_string(base_of(file).size()) + " bytes, more than the " +
                  std::to_string(limit) + " this file system allows");
  };
  check_name(path);
  std::string target = path;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode)) {
      std::unique_ptr<char, decltype(&std::free)> real(::realpath(path.c_str(), nullptr), &std::free);
      if (!real) throw Error(path + ": is a symbolic link that cannot be followed (" + errno_text(errno) + ")");
      target = real.get();
      if (::stat(target.c_str(), &st) != 0) throw Error(path + ": cannot write: " + errno_text(errno));
      if (!S_ISREG(st.st_mode))
        throw Error(path + ": leads to " + target + ", which is " + kind_of(st.st_mode) +
                    ", not a regular file; only regular files are written");
    } else if (!S_ISREG(st.st_mode)) {
      throw Error(path + ": is " + kind_of(st.st_mode) + ", not a regular file; only regular files are written");
    }
    if (::access(target.c_str(), W_OK) != 0) {
      const int err = errno;
      throw Error(path + ": " +
                  (err == EACCES || err == EPERM ? std::string("is read-only; not replacing it")
                                                 : "cannot write: " + errno_text(err)));
    }
  } else if (errno == ENOENT) {
    const std::string dir = dir_of(path);
    struct stat ds {};
    if (::stat(dir.c_str(), &ds) != 0) throw Error(path + ": cannot write there: " + dir + ": " + errno_text(errno));
    if (!S_ISDIR(ds.st_mode)) throw Error(path + ": cannot write there: " + dir + " is not a directory");
  } else if (errno == ENOTDIR) {
    throw Error(path + ": cannot write there: a part of the path before the file name is not a directory");
  } else {
    throw Error(path + ": cannot write: " + errno_text(errno));
  }
  check_name(target);
  return target;
}

void write_atomically(const std::string& path, const std::function<void(Sink&)>& body) {
  const std::string target = check_destination(path);
  const std::string dir = dir_of(target), base = base_of(target);
  struct stat old {};
  const bool replacing = ::stat(target.c_str(), &old) == 0;

  // A fresh temporary beside the target (O_EXCL: never someone else's file), its name cut short
  // so that it fits the file system's limit however long the destination's name is.
  static std::atomic<unsigned> counter{0};
  const size_t limit = static_cast<size_t>(name_max(dir));
  std::string tmp;
  int fd = -1, slot = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    const std::string suffix = ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    const std::string name = base.substr(0, limit > suffix.size() ? std::min(base.size(), limit - suffix.size()) : 0) + suffix;
    tmp = target.find('/') == std::string::npos ? name : (dir == "/" ? "/" : dir + "/") + name;
    const SignalsHeld held;
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    const int err = fd < 0 ? errno : 0;
    if (fd >= 0) slot = arm_temp(tmp);
    if (fd < 0 && err != EINTR && !(err == EEXIST && attempt < 100))
      throw Error(path + ": cannot create a temporary file to write: " + errno_text(err));
  }
  auto discard = [&] {
    if (fd >= 0) ::close(fd);
    fd = -1;
    ::unlink(tmp.c_str());
    disarm_temp(slot);
  };
  auto fail = [&](const char* doing, int err) {
    discard();
    throw Error(path + ": " + doing + ": " + errno_text(err));
  };
  if (replacing) {
    // The new file keeps the permissions (and for root the owner) of the one it replaces.
    if (::fchmod(fd, old.st_mode & 07777) != 0) fail("cannot set the permissions of the temporary file", errno);
    if (::geteuid() == 0) (void)!::fchown(fd, old.st_uid, old.st_gid);
  }
  try {
    Sink sink(fd);
    body(sink);
  } catch (const WriteError& e) {
    fail("cannot write", e.err);
  } catch (...) {
    discard();
    throw;
  }
  if (::fsync(fd) != 0) fail("cannot flush to disk", errno);
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) fail("cannot close", errno);
  if (::rename(tmp.c_str(), target.c_str()) != 0) fail("cannot rename the temporary file into place", errno);
  disarm_temp(slot);
  // The rename itself reaches the disk with the directory.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

void remove_temporaries_on_signals() {
  for (int sig : kCleanupSignals) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0) continue;
    if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) continue;  // ignored or handled: leave it
    struct sigaction sa {};
    sa.sa_handler = remove_temporaries_and_die;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
  }
  struct sigaction old {};
  if (::sigaction(SIGXFSZ, nullptr, &old) == 0 && !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL)
    ::signal(SIGXFSZ, SIG_IGN);
}

}  // namespace gs::io
