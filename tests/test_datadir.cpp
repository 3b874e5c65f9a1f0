// Where the data is found (datadir.h): the rule between the environment, the build tree and an
// installed tree, and a teacher's own lessons folder beside the shipped lessons.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "gradscope/datadir.h"
#include "gradscope/error.h"
#include "gradscope/lesson.h"
#include "gradscope/tokenizer.h"
#include "test_util.h"

using namespace gs;

namespace {

DataDirFacts facts(const std::string& exe) {
  return {"", exe, "/src/gradscope/build/bin", "/src/gradscope/assets", "share/gradscope"};
}

// Sets an environment variable for one test and puts the old value back.
struct EnvVar {
  std::string name, old;
  bool had;
  EnvVar(const char* n, const std::string& value) : name(n) {
    const char* v = getenv(n);
    had = v != nullptr;
    if (had) old = v;
    setenv(n, value.c_str(), 1);
  }
  ~EnvVar() {
    if (had) setenv(name.c_str(), old.c_str(), 1);
    else unsetenv(name.c_str());
  }
};

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST(datadir, installed_binary_reads_share_beside_its_bin) {
  EXPECT_EQ(resolve_data_dir(facts("/usr/bin/gradscope")), "/usr/share/gradscope");
  EXPECT_EQ(resolve_data_dir(facts("/tmp/pkg/usr/bin/gradscope-cli")), "/tmp/pkg/usr/share/gradscope");
  DataDirFacts f = facts("/opt/gs/bin/gradscope");
  f.installed = "share/gradscope/shaders";
  EXPECT_EQ(resolve_data_dir(f), "/opt/gs/share/gradscope/shaders");
}

TEST(datadir, build_tree_binary_reads_the_source_tree) {
  EXPECT_EQ(resolve_data_dir(facts("/src/gradscope/build/bin/gradscope-cli")), "/src/gradscope/assets");
  // The same folder named another way is still the build tree.
  EXPECT_EQ(resolve_data_dir(facts("/src/gradscope/build/./bin/../bin/gradscope")), "/src/gradscope/assets");
  // A binary whose place is unknown falls back to the source tree, as before there was an install.
  EXPECT_EQ(resolve_data_dir(facts("")), "/src/gradscope/assets");
}

TEST(datadir, a_binary_copied_out_of_the_build_tree_never_reads_the_source_tree) {
  // A sibling folder or a folder below the build tree's bin/ is not the build tree.
  EXPECT_EQ(resolve_data_dir(facts("/src/gradscope/build/bin2/gradscope")), "/src/gradscope/build/share/gradscope");
  EXPECT_EQ(resolve_data_dir(facts("/src/gradscope/build/bin/x/gradscope")), "/src/gradscope/build/bin/share/gradscope");
}

TEST(datadir, the_environment_overrides_both) {
  DataDirFacts f = facts("/usr/bin/gradscope");
  f.env = "/elsewhere/assets";
  EXPECT_EQ(resolve_data_dir(f), "/elsewhere/assets");
  f.exe = "/src/gradscope/build/bin/gradscope";
  EXPECT_EQ(resolve_data_dir(f), "/elsewhere/assets");
  EnvVar e("GRADSCOPE_ASSETS", "/from/env");
  EXPECT_EQ(data_dir(), "/from/env");
  EXPECT_EQ(asset_path("tiny.safetensors"), "/from/env/tiny.safetensors");
}

TEST(datadir, this_test_binary_is_in_the_build_tree) {
  // ctest sets GRADSCOPE_ASSETS to the source tree; without it the rule must land there too.
  const char* set = getenv("GRADSCOPE_ASSETS");
  const std::string from_env = set ? set : "";
  unsetenv("GRADSCOPE_ASSETS");
  const std::string found = data_dir();
  if (!from_env.empty()) setenv("GRADSCOPE_ASSETS", from_env.c_str(), 1);
  EXPECT_TRUE(std::filesystem::exists(found + "/lessons/01-one-weight.toml")) << found;
}

TEST(datadir, user_lessons_folder_follows_xdg) {
  EXPECT_EQ(user_lessons_dir("/x/data", "/home/t"), "/x/data/gradscope/lessons");
  EXPECT_EQ(user_lessons_dir(nullptr, "/home/t"), "/home/t/.local/share/gradscope/lessons");
  // An empty or relative XDG_DATA_HOME is ignored, as the XDG Base Directory rules say.
  EXPECT_EQ(user_lessons_dir("", "/home/t"), "/home/t/.local/share/gradscope/lessons");
  EXPECT_EQ(user_lessons_dir("rel/data", "/home/t"), "/home/t/.local/share/gradscope/lessons");
  EXPECT_EQ(user_lessons_dir(nullptr, nullptr), "");
  EXPECT_EQ(user_lessons_dir(nullptr, ""), "");
}

const char* kOwnLesson = R"(id = "my-first"
title = "My own lesson"
summary = "a teacher's file"
program = "line"

[[step]]
text = "Hello."
)";

TEST(datadir, own_lessons_are_listed_after_the_shipped_ones_and_found_by_id) {
  test::Scratch s;
  const std::string own = s.at("gradscope/lessons");
  std::filesystem::create_directories(own);
  write(own + "/my-first.toml", kOwnLesson);
  EnvVar xdg("XDG_DATA_HOME", s.dir.string());
  const LessonList l = list_lessons();
  EXPECT_EQ(l.own_dir, own);
  ASSERT_FALSE(l.shipped.empty());
  EXPECT_EQ(l.shipped.front().id, "01-one-weight");
  ASSERT_EQ(l.own.size(), 1u);
  EXPECT_EQ(l.own[0].id, "my-first");
  EXPECT_TRUE(l.problems.empty());
  EXPECT_EQ(find_lesson("my-first").title, "My own lesson");
  EXPECT_EQ(find_lesson("01-one-weight").id, "01-one-weight");  // the shipped ones still come first
}

TEST(datadir, a_bad_own_lesson_is_named_and_hides_nothing) {
  test::Scratch s;
  const std::string own = s.at("gradscope/lessons");
  std::filesystem::create_directories(own);
  write(own + "/good.toml", kOwnLesson);
  write(own + "/broken.toml", "id = \"broken\"\ntitle = 3\n");
  // Reusing a shipped lesson's id would make --lesson ambiguous: left out, and said so.
  write(own + "/copy.toml", std::string(kOwnLesson).replace(6, 8, "01-one-weight"));
  EnvVar xdg("XDG_DATA_HOME", s.dir.string());
  const LessonList l = list_lessons();
  ASSERT_EQ(l.own.size(), 1u);
  EXPECT_EQ(l.own[0].id, "my-first");
  ASSERT_EQ(l.problems.size(), 2u);
  EXPECT_NE(l.problems[0].find("broken.toml"), std::string::npos) << l.problems[0];
  EXPECT_NE(l.problems[1].find("'01-one-weight' is also"), std::string::npos) << l.problems[1];
  EXPECT_EQ(find_lesson("my-first").id, "my-first");
  try {
    find_lesson("nothing-here");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(own), std::string::npos) << "names both folders: " << e.what();
  }
}

TEST(datadir, no_own_folder_lists_the_shipped_lessons_alone) {
  test::Scratch s;
  EnvVar xdg("XDG_DATA_HOME", s.dir.string());
  const LessonList l = list_lessons();
  EXPECT_EQ(l.own_dir, s.at("gradscope/lessons"));
  EXPECT_TRUE(l.own.empty());
  EXPECT_TRUE(l.problems.empty());
  EXPECT_FALSE(l.shipped.empty());
}

TEST(datadir, the_app_keeps_its_layout_in_the_config_folder) {
  test::Scratch s;
  {
    EnvVar xdg("XDG_CONFIG_HOME", s.at("config"));
    EXPECT_EQ(user_config_file("imgui.ini"), s.at("config/gradscope/imgui.ini"));
    EXPECT_TRUE(std::filesystem::is_directory(s.at("config/gradscope"))) << "made, so the file can be written";
  }
  EnvVar xdg("XDG_CONFIG_HOME", "relative");
  EnvVar home("HOME", s.at("home"));
  EXPECT_EQ(user_config_file("imgui.ini"), s.at("home/.config/gradscope/imgui.ini"));
}
