// Files in and out (gradscope/fileio.h): only regular files are read or written, by kind and
// without blocking; reads are bounded by the file's real size (and a text file's limit); a write
// is whole or not at all: it keeps the mode of the file it replaces, fits NAME_MAX, goes through
// a symlink, reports the real error (EFBIG here), and leaves no temporary on an error or a signal.
#include "gradscope/fileio.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "gradscope/error.h"
#include "test_util.h"

namespace gs::io {
namespace {

namespace fs = std::filesystem;

using test::Scratch;

void spit(const std::string& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// `f` throws a one-line gs::Error starting with "<what>: " and containing `phrase`.
testing::AssertionResult throws_error(const std::function<void()>& f, const std::string& what,
                                      const std::string& phrase) {
  try {
    f();
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.rfind(what + ": ", 0) != 0) return testing::AssertionFailure() << "does not start with " << what << ": " << msg;
    if (msg.find(phrase) == std::string::npos) return testing::AssertionFailure() << "lacks '" << phrase << "': " << msg;
    if (msg.find('\n') != std::string::npos) return testing::AssertionFailure() << "has a newline: " << msg;
    return testing::AssertionSuccess();
  }
  return testing::AssertionFailure() << "did not throw";
}

void write_text(const std::string& path, const std::string& text) {
  write_atomically(path, [&](Sink& out) { out.write(text.data(), text.size()); });
}

// [SECTION] reading

TEST(FileIo, ReadRefusesWhatIsNotARegularFile) {
  const Scratch s;
  const std::string fifo = s.at("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // No writer: an ordinary open() would wait forever; this one says what it is at once.
  EXPECT_TRUE(throws_error([&] { Reader r(fifo); }, fifo, "is a FIFO (named pipe), not a regular file"));
  const std::string dev = test::character_device();
  ASSERT_FALSE(dev.empty()) << "no character device node on this machine";
  EXPECT_TRUE(throws_error([&] { Reader r(dev); }, dev, "is a character device, not a regular file"));
  EXPECT_TRUE(throws_error([&] { Reader r(s.dir.string()); }, s.dir.string(), "is a directory, not a regular file"));
  fs::create_symlink(dev, s.at("link"));
  EXPECT_TRUE(throws_error([&] { Reader r(s.at("link")); }, s.at("link"), "is a character device"));
  fs::create_symlink("loop2", s.at("loop1"));
  fs::create_symlink("loop1", s.at("loop2"));
  EXPECT_TRUE(throws_error([&] { Reader r(s.at("loop1")); }, s.at("loop1"), "Too many levels of symbolic links"));
  EXPECT_TRUE(throws_error([&] { Reader r(s.at("none")); }, s.at("none"), "cannot open: No such file or directory"));
}

TEST(FileIo, ReadsAreBoundedByTheRealSize) {
  const Scratch s;
  const std::string p = s.at("f");
  spit(p, std::string(100, 'x'));
  {
    // The file shrinks after it was opened: the read says so instead of handing back less.
    Reader r(p);
    EXPECT_EQ(r.size(), 100u);
    ASSERT_EQ(::truncate(p.c_str(), 40), 0);
    std::vector<char> buf(100);
    EXPECT_TRUE(throws_error([&] { r.read_exact(buf.data(), buf.size()); }, p, "the file ended after 40 of its 100 bytes"));
  }
  {
    // It grows: expect_end() notices.
    spit(p, std::string(10, 'x'));
    Reader r(p);
    std::vector<char> buf(10);
    r.read_exact(buf.data(), buf.size());
    std::ofstream(p, std::ios::app) << "more";
    EXPECT_TRUE(throws_error([&] { r.expect_end(); }, p, "grew while being read"));
  }
}

TEST(FileIo, TextFilesHaveALimit) {
  const Scratch s;
  spit(s.at("t"), "hello");
  EXPECT_EQ(read_text(s.at("t"), 5, "a test file"), "hello");
  EXPECT_TRUE(throws_error([&] { read_text(s.at("t"), 4, "a test file"); }, s.at("t"),
                           "the file is 5 bytes, over the 4 bytes limit for a test file"));
  // A huge sparse file is refused by its size, without reading it.
  ASSERT_EQ(::truncate(s.at("t").c_str(), int64_t(1) << 40), 0);
  EXPECT_TRUE(throws_error([&] { read_text(s.at("t"), 1 << 20, "a test file"); }, s.at("t"), "the file is 1.0 TiB"));
  // Files whose size says 0 but which have content (/proc) are read to their end.
  EXPECT_NE(read_text("/proc/self/status", 1 << 20, "a test file").find("Name:"), std::string::npos);
}

// [SECTION] writing

TEST(FileIo, WriteRefusesWhatIsNotARegularFile) {
  const Scratch s;
  // A device node is refused and stays what it is (/dev/null was once replaced by a regular
  // file when written as root; /dev/full reported success).
  const std::string dev = test::character_device();
  ASSERT_FALSE(dev.empty()) << "no character device node on this machine";
  EXPECT_TRUE(throws_error([&] { write_text(dev, "x"); }, dev,
                           "is a character device, not a regular file; only regular files are written"));
  EXPECT_TRUE(fs::is_character_file(dev)) << dev;
  EXPECT_TRUE(throws_error([&] { write_text(s.dir.string(), "x"); }, s.dir.string(), "is a directory"));
  EXPECT_TRUE(throws_error([&] { write_text(s.at("sub/"), "x"); }, s.at("sub/"), "ends in '/'"));
  EXPECT_TRUE(throws_error([&] { write_text(s.at("."), "x"); }, s.at("."), "names a directory"));
  ASSERT_EQ(::mkfifo(s.at("fifo").c_str(), 0600), 0);
  EXPECT_TRUE(throws_error([&] { write_text(s.at("fifo"), "x"); }, s.at("fifo"), "is a FIFO"));
  spit(s.at("file"), "");
  EXPECT_TRUE(throws_error([&] { write_text(s.at("file/x"), "x"); }, s.at("file/x"), "is not a directory"));
  EXPECT_TRUE(throws_error([&] { write_text(s.at("no/x"), "x"); }, s.at("no/x"), "No such file or directory"));
  fs::create_symlink(s.at("nowhere/x"), s.at("dangling"));
  EXPECT_TRUE(throws_error([&] { write_text(s.at("dangling"), "x"); }, s.at("dangling"), "cannot be followed"));
  EXPECT_TRUE(throws_error([&] { write_text("", "x"); }, "(empty file name)", "no file to write to"));
  EXPECT_EQ(s.listing(), (std::vector<std::string>{"dangling", "fifo", "file"}));
}

TEST(FileIo, WriteKeepsTheModeAndGoesThroughSymlinks) {
  const Scratch s;
  const std::string p = s.at("m");
  spit(p, "old");
  ASSERT_EQ(::chmod(p.c_str(), 0600), 0);
  write_text(p, "new");
  EXPECT_EQ(slurp(p), "new");
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  fs::create_symlink("m", s.at("link"));
  write_text(s.at("link"), "via link");
  EXPECT_TRUE(fs::is_symlink(s.at("link")));
  EXPECT_EQ(slurp(p), "via link");
  EXPECT_EQ(s.listing(), (std::vector<std::string>{"link", "m"}));
}

TEST(FileIo, LongNamesFitTheTemporary) {
  const Scratch s;
  const std::string name255(255, 'n'), name256(256, 'n');
  write_text(s.at(name255), "x");  // its temporary name is cut short to fit
  EXPECT_EQ(slurp(s.at(name255)), "x");
  EXPECT_TRUE(throws_error([&] { write_text(s.at(name256), "x"); }, s.at(name256),
                           "the file name is 256 bytes, more than the 255 this file system allows"));
  EXPECT_EQ(s.listing(), std::vector<std::string>{name255});
}

TEST(FileIo, AFailedWriteReportsTheRealErrorAndLeavesNothing) {
  const Scratch s;
  // A body that throws: its error, and no temporary.
  EXPECT_THROW(write_atomically(s.at("a"), [](Sink&) { throw Error("stop"); }), Error);
  // Past the file size limit (ulimit -f), with SIGXFSZ ignored: "File too large", not a kill.
  remove_temporaries_on_signals();
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit small = old;
  small.rlim_cur = 1000;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  const bool refused = throws_error([&] { write_text(s.at("big"), std::string(5000, 'x')); }, s.at("big"),
                                    "cannot write: File too large");
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  EXPECT_TRUE(refused);
  EXPECT_TRUE(s.listing().empty());
}

TEST(FileIo, ASignalMidWriteRemovesTheTemporary) {
  // In a child: the body writes half the bytes, then the process gets SIGTERM (as from kill).
  const Scratch s;
  spit(s.at("dest"), "old bytes");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    remove_temporaries_on_signals();
    try {
      write_atomically(s.at("dest"), [](Sink& out) {
        out.write("new ", 4);
        ::kill(::getpid(), SIGTERM);
        out.write("bytes", 5);
      });
    } catch (...) {
    }
    _exit(0);  // not reached: SIGTERM ends the process
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << "status " << status;
  EXPECT_EQ(s.listing(), std::vector<std::string>{"dest"}) << "the temporary is gone";
  EXPECT_EQ(slurp(s.at("dest")), "old bytes") << "the destination is never half-written";
}

}  // namespace
}  // namespace gs::io
