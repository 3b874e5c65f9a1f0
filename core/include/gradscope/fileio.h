#pragma once
// Files in and out, for every reader and writer of the engine (checkpoints, dumps, vocabularies,
// corpora, config.json). Each throws gs::Error with one line that starts with the path.
//
// Reading: only regular files are read (a symlink is followed to what it names). A FIFO, a
// device (/dev/zero, /dev/urandom), a socket or a directory is refused at once, by its kind;
// the open cannot block (a FIFO without a writer would wait forever). Reads are bounded: a
// binary format reads what its header promises and checks that against the file's real size
// before allocating; text files have a size limit.
//
// Writing: a file is written whole or not at all. The bytes go to a temporary file in the same
// directory ("NAME.tmp-PID-N", the name cut short to fit the file system's limit), which is
// flushed to disk (fsync), given the permissions (and, for root, the owner) of the file it
// replaces, and renamed over the destination; the directory is then flushed too. So the
// destination always holds either its old bytes or all the new ones, even after a crash or a
// power loss. What can remain after SIGKILL or a power loss is the temporary file beside it
// (never the destination half-written); SIGINT, SIGTERM, SIGHUP and SIGQUIT remove it first in
// a process that called remove_temporaries_on_signals(). A destination that exists and is not a
// regular file (/dev/null, /dev/full, a FIFO, a directory) is refused, as is a read-only one; a
// symlink is written through (the file it names is replaced, the link stays).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gs::io {

// A regular file open for reading (closed by the destructor).
class Reader {
 public:
  // Throws "<path>: cannot open: <reason>" or "<path>: is a FIFO (named pipe), not a regular file"
  // and the like.
  explicit Reader(const std::string& path);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }  // st_size when opened
  // Exactly n more bytes, or "<path>: the file ended after K of its N bytes (it changed while
  // being read)".
  void read_exact(void* dst, size_t n);
  // Up to n more bytes (fewer only at the end of the file); returns how many.
  size_t read_some(void* dst, size_t n);
  // Throws when the file holds more bytes than were read or its size has changed.
  void expect_end();

 private:
  size_t raw_read(uint8_t* p, size_t n);
  static constexpr size_t kBuffer = 1 << 16;
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  uint64_t done_ = 0;  // bytes handed out
  std::vector<uint8_t> buf_;
  size_t buf_pos_ = 0, buf_len_ = 0;
};

// The whole of a regular text file of at most `max_bytes` bytes; larger (or growing past it
// while read) is refused: "<path>: the file is 3.2 GiB, over the 256 MiB limit for <what>".
std::string read_text(const std::string& path, uint64_t max_bytes, const std::string& what);

// Where write_atomically writes its bytes; write() throws on any error (ENOSPC, EIO, EFBIG …).
class Sink {
 public:
  void write(const void* p, size_t n);
  uint64_t written() const { return written_; }

 private:
  friend void write_atomically(const std::string&, const std::function<void(Sink&)>&);
  explicit Sink(int fd) : fd_(fd) {}
  int fd_;
  uint64_t written_ = 0;
};

// Checks that `path` can be written as described above and returns the file that will be
// replaced or created (a symlink resolved); throws the line write_atomically would throw.
std::string check_destination(const std::string& path);

// Writes `path` whole or not at all, as described above: `body` writes every byte into the sink.
// Throws "<path>: …" naming the problem (and leaves no temporary file) on any error, including
// one thrown by `body`.
void write_atomically(const std::string& path, const std::function<void(Sink&)>& body);

// Installs handlers for SIGINT, SIGTERM, SIGHUP and SIGQUIT (each only where it still has its
// default action) that remove the temporary files of writes in progress and then end the
// process by the same signal; SIGXFSZ is ignored, so a write past `ulimit -f` fails with
// "File too large" instead of killing the process with a half-written temporary.
void remove_temporaries_on_signals();

// "a directory", "a FIFO (named pipe)", "a character device" …: the kind of file a mode names.
const char* kind_of(unsigned mode);

}  // namespace gs::io
