// The checkpoint browser's listing (dir_listing.h): folders first, then *.safetensors and *.bin,
// each by name; hidden entries and other files left out; a folder that cannot be read says so in
// one line; where the browser starts for a path box.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "dir_listing.h"

namespace gs::app {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path p = fs::temp_directory_path() / ("gradscope_dir_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(p); }
  ~TempDir() { fs::remove_all(p); }
};

void touch(const fs::path& p, size_t bytes = 0) { std::ofstream(p) << std::string(bytes, 'x'); }

TEST(dir_listing, folders_then_checkpoints_by_name) {
  TempDir d;
  fs::create_directories(d.p / "zoo");
  fs::create_directories(d.p / "alpha");
  fs::create_directories(d.p / ".git");
  touch(d.p / "b.safetensors", 1500);
  touch(d.p / "a.bin", 10);
  touch(d.p / "notes.txt");
  touch(d.p / ".hidden.safetensors");
  touch(d.p / "x.safetensors.tmp-1");
  const DirListing l = list_checkpoint_dir(d.p.string());
  EXPECT_TRUE(l.error.empty()) << l.error;
  EXPECT_EQ(l.dir, d.p.string());
  ASSERT_EQ(l.entries.size(), 4u);
  EXPECT_EQ(l.entries[0].name, "alpha");
  EXPECT_TRUE(l.entries[0].is_dir);
  EXPECT_EQ(l.entries[1].name, "zoo");
  EXPECT_EQ(l.entries[2].name, "a.bin");
  EXPECT_FALSE(l.entries[2].is_dir);
  EXPECT_EQ(l.entries[3].name, "b.safetensors");
  EXPECT_EQ(l.entries[3].size, 1500u);
  EXPECT_EQ(size_str(1500), "1.5 kB");
  EXPECT_EQ(size_str(497759232), "497.8 MB");
}

TEST(dir_listing, a_missing_folder_says_so_in_one_line) {
  const DirListing l = list_checkpoint_dir("/nonexistent/gradscope");
  EXPECT_FALSE(l.error.empty());
  EXPECT_EQ(l.error.find('\n'), std::string::npos);
  EXPECT_NE(l.error.find("/nonexistent/gradscope"), std::string::npos) << l.error;
  EXPECT_TRUE(l.entries.empty());
}

TEST(dir_listing, up_and_where_to_start) {
  TempDir d;
  EXPECT_EQ(parent_dir("/"), "/");
  EXPECT_EQ(parent_dir("/usr/lib"), "/usr");
  EXPECT_EQ(parent_dir("/usr/lib/"), "/usr");
  touch(d.p / "m.safetensors");
  EXPECT_EQ(browse_start((d.p / "m.safetensors").string(), "/"), d.p.string());
  EXPECT_EQ(browse_start((d.p / "not-yet.safetensors").string(), "/"), d.p.string());  // a file to save to
  EXPECT_EQ(browse_start("/nonexistent/m.safetensors", d.p.string()), d.p.string());
  EXPECT_EQ(browse_start(d.p.string(), "/"), d.p.string());
  EXPECT_TRUE(is_checkpoint_file("gpt2_124M.bin"));
  EXPECT_TRUE(is_checkpoint_file("model.safetensors"));
  EXPECT_FALSE(is_checkpoint_file(".bin"));
  EXPECT_FALSE(is_checkpoint_file("config.json"));
}

}  // namespace
}  // namespace gs::app
