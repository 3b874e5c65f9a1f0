// gradscope: watch backpropagation through a real GPT-2, one op at a time.
//
//   gradscope [MODEL options] [--step N] [--window WxH] [--font-scale X] [--theme dark|light] [--presenter] [--side tabs]
//             [--show "Graph,FLOPs"] [--train N [--lr X] [--optimizer sgd|adamw]]
//   gradscope --screenshot FILE.png --step N      render a few real frames, write a PNG, exit
//   gradscope --screenshot FILE.png --step N --screenshot-after-ms MS
//                                                 the same after MS ms of frames, while jobs run
//   gradscope --frames N                          render N frames, print mean and p95 frame time
//
// The window opens on the default tiny model at once; a bigger model (another preset, a
// checkpoint) is then built off the UI thread with a progress bar. Scripted runs without
// --screenshot-after-ms wait for the model (and --train) before the window opens instead.
//
// Without a display it says so on one line and exits 2 (run it under xvfb-run, or use
// gradscope-cli for the headless commands).
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <chrono>
#include <filesystem>
#include <csignal>
#include <cstdio>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "app.h"
#include "analysis.h"
#include "controller.h"
#include "gl_heatmap.h"
#include "gl_objects.h"
#include "gradscope/config.h"
#include "gradscope/datadir.h"
#include "gradscope/error.h"
#include "gradscope/fileio.h"
#include "gradscope/session.h"
#include "model_flags.h"

namespace {

struct Args {
  std::string screenshot;
  std::optional<int> step;
  int frames = 0;
  std::string window = "1600x900";
  float font_scale = 1.0f;
  std::string theme = "dark";
  bool presenter = false;
  std::string side = "column";  // secondary panels: column | tabs
  std::string mouse;  // "X,Y": the pointer held there (scripted screenshots of tooltips)
  std::string show;   // "Graph,FLOPs": panels to open
  std::optional<int> after_ms;  // screenshot after this many ms of frames
  std::optional<int> train;     // optimiser steps to run once the model is there
  double lr = 1e-3;
  std::string optimizer = "adamw";
  int width = 1600, height = 900;
  // model (optional; default: Controller::default_spec() on the trained checkpoint)
  gs::flags::ModelFlags model;
  std::vector<std::string> mistakes;  // OP=KIND, planted once the model is there
  bool check = false;                 // "check every op" (and parameter) once the model is there
  std::optional<int> lesson_step;     // with --lesson: the step to open at (1 … n)
  bool walk_lessons = false;          // render every step from --lesson's to the path's end, then exit
  bool custom_model() const { return model.any_given() && model.lesson.empty(); }
};

std::string glfw_error;  // the last GLFW error, for the one-line messages

// Flag checks whose messages state the rule (CLI11's PositiveNumber prints DBL_MAX in full); the
// model flags' own checks are in the shared parser (app/common/model_flags.cpp).
const CLI::Validator kPath([](std::string& s) { return s.empty() ? std::string("an empty path names no file") : ""; },
                           "PATH");
const CLI::Validator kNotEmpty(
    [](std::string& s) { return s.empty() ? std::string("an empty value names nothing") : std::string(); }, "TEXT");
// CLI11's Range lets NaN through (every comparison with it is false).
const CLI::Validator kFinite(
    [](std::string& s) {
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      return end && *end == 0 && !s.empty() && std::isfinite(v) ? std::string() : "'" + s + "' is not a finite number";
    },
    "X");
// The window: at most this many pixels a side and in all (8K UHD); past that X refuses or the
// frame buffers take gigabytes.
constexpr int kMaxWindowSide = 8192;
constexpr long long kMaxWindowPixels = 7680LL * 4320;
const CLI::Validator kPositiveNumber(
    [](std::string& s) {
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      return end && *end == 0 && !s.empty() && v > 0 && std::isfinite(v) ? std::string()
                                                                        : "'" + s + "' is not a positive finite number";
    },
    "X > 0");

// Ctrl+C or a kill ends the main loop normally, so the layout (imgui.ini) is saved; a second one
// ends the process at once, whatever it is doing.
volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int sig) {
  if (stop_requested) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
  stop_requested = 1;
}

// The window layout, kept between runs in imgui.ini in the user's configuration folder
// (${XDG_CONFIG_HOME:-~/.config}/gradscope: an installed app is started from anywhere, often a
// folder it should not write in). ImGui's own loading opens whatever has that name (a FIFO would
// block the app for ever): it is read and written here instead, through fileio — a regular file
// only, bounded, written whole or not at all.
std::string kIniFile;

// Returns false when imgui.ini is there but not a layout to read (it is then left alone), or when
// there is no configuration folder to keep it in.
bool load_layout() {
  kIniFile = gs::user_config_file("imgui.ini");
  if (kIniFile.empty()) return false;
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(kIniFile, ec))) return true;
  try {
    const std::string text = gs::io::read_text(kIniFile, 1u << 20, "the window layout");
    ImGui::LoadIniSettingsFromMemory(text.data(), text.size());
  } catch (const gs::Error& e) {
    fprintf(stderr, "gradscope: warning: %s; the default layout is used (and %s is left as it is)\n", e.what(),
            kIniFile.c_str());
    return false;
  }
  return true;
}

// Returns false when the layout could not be written (said once on stderr).
bool save_layout() {
  size_t n = 0;
  const char* text = ImGui::SaveIniSettingsToMemory(&n);
  ImGui::GetIO().WantSaveIniSettings = false;
  try {
    gs::io::write_atomically(kIniFile, [&](gs::io::Sink& out) { out.write(text, n); });
  } catch (const gs::Error& e) {
    fprintf(stderr, "gradscope: warning: the window layout is not saved: %s\n", e.what());
    return false;
  }
  return true;
}

void on_glfw_error(int, const char* description) { glfw_error = description ? description : "unknown error"; }

int fail(const std::string& msg) {
  fprintf(stderr, "gradscope: error: %s\n", msg.c_str());
  return 2;
}

int no_display(const char* what) {
  fprintf(stderr,
          "gradscope: no display: %s%s%s; run it under a virtual one with `xvfb-run -a build/bin/gradscope …`, "
          "or use build/bin/gradscope-cli for the headless commands\n",
          what, glfw_error.empty() ? "" : " — ", glfw_error.c_str());
  return 2;
}

// The model the flags ask for: a lesson program as given; GPT-2 as the app's default (the tiny
// preset in f64 on a sentence, Controller::default_spec()) with the flags given on top.
gs::ModelSpec spec_from(const gs::flags::ModelFlags& f) {
  const gs::ModelSpec& g = f.spec;
  if (!gs::is_gpt2_program(g.program)) return g;
  gs::ModelSpec s = gs::app::Controller::default_spec();
  const auto given = [&](const char* flag) { return f.given(flag); };
  if (given("--preset") && g.preset != "tiny") {
    const gs::Config pc = gs::preset_config(g.preset);
    s.preset = g.preset;
    s.dtype = gs::dtype_name(pc.dtype);
    // The sentence is shorter than the preset's T: T from the text. The gpt2 shape has no
    // character vocabulary: seeded random tokens (T from the preset) unless GPT-2's tokenizer reads it.
    s.seq.reset();
    if (g.preset == "gpt2" && g.tokenizer.value_or("") != "gpt2") s.text.reset();
  }
  if (g.text) s.text = g.text;
  if (g.tokens) {
    s.tokens = g.tokens;
    s.text.reset();
  }
  if ((g.text || g.tokens) && !g.seq) s.seq.reset();  // T from the input
  if (g.seq) s.seq = g.seq;
  if (g.dtype) s.dtype = g.dtype;
  if (g.seed) s.seed = g.seed;
  if (!g.checkpoint.empty()) {
    s.checkpoint = g.checkpoint;
    if (!g.dtype) s.dtype.reset();  // the file's own precision: F64 → f64, else f32
  }
  s.layers = g.layers;
  s.heads = g.heads;
  s.embd = g.embd;
  s.vocab = g.vocab;
  s.ctx = g.ctx;
  if (g.batch) s.batch = g.batch;
  if (g.lora_rank) s.lora_rank = g.lora_rank;
  if (g.lora_alpha) s.lora_alpha = g.lora_alpha;
  if (g.lora_targets) s.lora_targets = g.lora_targets;
  if (g.tokenizer) s.tokenizer = g.tokenizer;
  if (!g.vocab_dir.empty()) s.vocab_dir = g.vocab_dir;
  s.sets = g.sets;  // on gpt2 an error, said by resolve()
  return s;
}

// Built in the blink of an eye (a lesson program, or the tiny preset from its settings): no need
// to open the window on the default model first.
bool instant(const gs::ModelSpec& s) {
  return s.program != "gpt2" || (s.preset == "tiny" && s.checkpoint.empty() && !s.layers && !s.embd);
}

// --show's panel titles; empty items are skipped.
std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  for (std::string& item : gs::split_comma_list(s))
    if (!item.empty()) out.push_back(std::move(item));
  return out;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  // [SECTION] arguments
  CLI::App cli{"gradscope: watch backpropagation through GPT-2, one op at a time (a Dear ImGui desktop app)"};
  Args a;
  const char* display = "Display";
  const char* scripted = "Scripted runs (tests, screenshots)";
  const char* model =
      "Model (as gradscope-cli; default: gpt2's tiny preset in f64 on a sentence, trained: tiny.safetensors)";
  cli.add_option("--step", a.step, "start at step N (0 … 2N; step s = the first s steps done)")->group(display);
  cli.add_option("--window", a.window, "window size WxH (default 1600x900; 320x240 … 8192 a side, 7680x4320 pixels in all)")
      ->group(display);
  cli.add_option("--font-scale", a.font_scale, "text size (1 = 18 px; Ctrl +/− change it)")
      ->check(kFinite)
      ->check(CLI::Range(gs::app::Settings::kMinFontScale, gs::app::Settings::kMaxFontScale))
      ->group(display);
  cli.add_option("--theme", a.theme, "dark | light (high contrast)")->check(CLI::IsMember({"dark", "light"}))->group(display);
  cli.add_flag("--presenter", a.presenter,
               "start in the presenter layout: a compact transport and the op inspector across the width (panels "
               "opened with --show go beside it)")
      ->group(display);
  cli.add_option("--side", a.side, "column | tabs: the panels beside the inspector one above the other (default), or "
                                   "as tabs of one place")
      ->check(CLI::IsMember({"column", "tabs"}))
      ->group(display);
  std::string panel_titles;  // the dispatch list's, so the help never drifts from it
  for (const auto& p : gs::app::make_panels()) panel_titles += (panel_titles.empty() ? "" : ", ") + std::string(p->title());
  cli.add_option("--show", a.show,
                 "open these panels too, by title, comma-separated: \"Graph,FLOPs,Training\" (" + panel_titles +
                     "; any case)")
      ->check(kNotEmpty)
      ->group(display);
  cli.add_option("--train", a.train, "run N optimiser steps once the model is there, off the UI thread")
      ->check(CLI::Range(1, 100000))
      ->group(display);
  cli.add_option("--lr", a.lr, "learning rate of --train (default 1e-3)")->check(kPositiveNumber)->group(display);
  cli.add_option("--optimizer", a.optimizer, "sgd | adamw (default), for --train")
      ->check(CLI::IsMember({"sgd", "adamw"}))
      ->group(display);
  cli.add_option("--screenshot", a.screenshot, "render a few frames at --step N, write FILE.png and exit")
      ->check(kPath)
      ->group(scripted);
  cli.add_option("--screenshot-after-ms", a.after_ms,
                 "with --screenshot: keep rendering for MS milliseconds first, while the model is built (and "
                 "trained) off the UI thread, so the picture shows what the app shows then (e.g. a progress bar)")
      ->check(CLI::Range(0, 600000))
      ->group(scripted);
  cli.add_option("--frames", a.frames, "render N frames, print the mean and p95 frame time, exit")
      ->check(CLI::Range(1, 1000000))
      ->group(scripted);
  cli.add_option("--mouse", a.mouse, "hold the pointer at X,Y (window pixels), e.g. to capture a tooltip")
      ->check(kNotEmpty)
      ->group(scripted);
  cli.add_flag("--check", a.check,
               "check every op and parameter once the model is there, in the background, as the Finite differences "
               "panel's button does (a screenshot waits for it; with --screenshot-after-ms it shows its progress)")
      ->group(scripted);
  gs::flags::add_model_options(cli, a.model, model, false);
  cli.add_option("--lesson-step", a.lesson_step, "with --lesson: open at this step (1 … the lesson's steps)")->group(model);
  cli.add_flag("--walk-lessons", a.walk_lessons,
               "with --lesson: render every step from there to the last lesson's last step (Next, Next …), print how "
               "many, exit 2 if any step fails")
      ->group(scripted);
  cli.add_option("--mistake", a.mistakes,
                 "plant a backprop mistake, OP=KIND (e.g. h.0.attn.softmax=dropped_term; kinds as gradscope-cli check "
                 "--mistake), then check every op")
      ->group(model);
  cli.footer(
      "\nExamples:\n"
      "  gradscope                                   the tiny model, trained, on a sentence\n"
      "  gradscope --preset gpt2 --tokenizer gpt2    the 124M shape reading the sentence as GPT-2 tokens\n"
      "  gradscope --checkpoint gpt2_124M.bin --tokenizer gpt2 --text \"Hello world\"\n"
      "  xvfb-run -a gradscope --screenshot x.png --step 12 --show \"Graph,FLOPs\"\n"
      "  xvfb-run -a gradscope --preset gpt2 --screenshot x.png --step 0 --screenshot-after-ms 3000\n"
      "  gradscope --mistake h.1.attn.softmax=dropped_term --show \"Planted mistakes\"\n"
      "  gradscope --program line                   the tutorial's first model, y = a·x + b\n"
      "  gradscope --program matrix --set n=2       the matrix model on two rows\n"
      "  gradscope --lesson 01-one-weight            the first lesson; Next (Page Down) walks the path\n"
      "\nLessons: the shipped ones, then your own from $XDG_DATA_HOME/gradscope/lessons (default\n"
      "~/.local/share/gradscope/lessons); gradscope-cli lessons lists them. The lessons, the default model and\n"
      "the shaders come from " + gs::data_dir() + " (GRADSCOPE_ASSETS and GRADSCOPE_SHADERS override).\n"
      "\nWithout a display it says so and exits 2; bad input gives one line on stderr and exit 2.\n"
      "Keys: → ← step, Home End, Space play/pause, Ctrl +/−/0 text size, Ctrl Q quit (Help ▸ Keys).\n\n" +
      gs::flags::programs_help());
  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::printf("%s", cli.help().c_str());
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    return fail(msg + " (see gradscope --help)");
  }
  {
    std::smatch m;
    const std::regex re("([0-9]{2,5})x([0-9]{2,5})");
    if (!std::regex_match(a.window, m, re)) return fail("--window '" + a.window + "' is not WxH (e.g. 1600x900)");
    a.width = std::stoi(m[1]);
    a.height = std::stoi(m[2]);
    if (a.width < 320 || a.height < 240) return fail("--window must be at least 320x240");
    if (a.width > kMaxWindowSide || a.height > kMaxWindowSide ||
        static_cast<long long>(a.width) * a.height > kMaxWindowPixels)
      return fail("--window " + a.window + " is too large: at most " + std::to_string(kMaxWindowSide) +
                  " pixels a side and 7680x4320 (8K) in all");
  }
  if (a.lesson_step && a.model.lesson.empty()) return fail("--lesson-step needs --lesson ID|FILE");
  if (a.walk_lessons && a.model.lesson.empty()) return fail("--walk-lessons needs --lesson ID|FILE (where to start)");
  if (!a.model.lesson.empty()) {
    for (const CLI::Option* o : a.model.options)
      if (o->count() && o->get_name() != "--lesson")
        return fail(o->get_name() + " cannot be given with --lesson, which sets the model");
  }
  if (!a.screenshot.empty() && !a.step && a.model.lesson.empty())
    return fail("--screenshot needs --step N (which step to show), or --lesson with its --lesson-step");
  if (!a.screenshot.empty()) {
    try {
      gs::io::check_destination(a.screenshot);  // before any frame: /dev/full, a directory … say so now
    } catch (const gs::Error& e) {
      return fail(e.what());
    }
  }
  if (a.after_ms && a.screenshot.empty()) return fail("--screenshot-after-ms needs --screenshot FILE.png");
  std::vector<std::string> show = split_list(a.show);
  if (!a.show.empty() && show.empty()) return fail("--show '" + a.show + "' names no panel");
  if (!a.mistakes.empty()) show.push_back("Planted mistakes");
  {
    // The titles are checked before any window opens.
    std::vector<std::string> titles;
    for (const auto& p : gs::app::make_panels()) titles.push_back(p->title());
    for (const std::string& t : show) {
      auto same = [&](const std::string& x) {
        auto low = [](char ch) { return std::tolower(static_cast<unsigned char>(ch)); };
        return std::equal(x.begin(), x.end(), t.begin(), t.end(), [&](char p, char q) { return low(p) == low(q); });
      };
      if (std::none_of(titles.begin(), titles.end(), same)) {
        std::string known;
        for (const auto& x : titles) known += (known.empty() ? "" : ", ") + x;
        return fail("--show: no panel '" + t + "' (panels: " + known + ")");
      }
    }
  }
  std::optional<ImVec2> mouse;
  if (!a.mouse.empty()) {
    std::smatch m;
    const std::regex re("([0-9]{1,5}),([0-9]{1,5})");
    if (!std::regex_match(a.mouse, m, re)) return fail("--mouse '" + a.mouse + "' is not X,Y (e.g. 800,450)");
    mouse = ImVec2(std::stof(m[1]), std::stof(m[2]));
  }
  const bool headless_run = !a.screenshot.empty() || a.frames > 0 || a.walk_lessons;

  // [SECTION] display
  glfwSetErrorCallback(on_glfw_error);
  if (!glfwInit()) return no_display("cannot initialise GLFW");

  // [SECTION] model (before the window: bad input fails fast)
  // Scripted runs wait for the model they ask for (and its training) before the window opens.
  // Otherwise the window opens at once on the default model, and a bigger one asked for is
  // built off the UI thread, its progress on screen; --step waits for it.
  gs::app::Controller controller;
  const bool wait_first = headless_run && !a.after_ms;
  const gs::ModelSpec want = spec_from(a.model);
  const bool in_background = !wait_first && a.custom_model() && !instant(want);
  gs::OptimizerOptions train_opt;
  train_opt.kind = a.optimizer;
  train_opt.lr = a.lr;
  try {
    const bool ok = a.custom_model() && !in_background ? controller.load_default(want) : controller.load_default();
    if (!ok) {
      glfwTerminate();
      return fail(controller.error());
    }
  } catch (const gs::Error& e) {
    glfwTerminate();
    return fail(e.what());
  }
  // --lesson: the lesson's model and its step, in place before the window opens.
  if (!a.model.lesson.empty()) {
    controller.apply(gs::app::req::OpenLesson{a.model.lesson, a.lesson_step.value_or(1), ""});
    controller.wait_jobs();
    if (!controller.in_lesson()) {
      glfwTerminate();
      return fail(controller.error().empty() ? "--lesson: could not open " + a.model.lesson : controller.error());
    }
  }
  const uint64_t startup_generation = controller.spec_generation();
  if (in_background) controller.apply(gs::app::req::Rebuild{want});
  if (a.train) controller.apply(gs::app::req::Train{*a.train, train_opt});  // waits behind the rebuild
  if (wait_first && a.train) {
    // Training that stops at a NaN or ±∞ fails a scripted run too (it asked for N steps).
    controller.wait_jobs();
    if (!controller.error().empty()) {
      glfwTerminate();
      return fail(controller.error());
    }
  }
  {
    gs::app::Settings st = controller.settings();
    st.font_scale = a.font_scale;
    st.theme = a.theme == "light" ? gs::app::Theme::light_high_contrast : gs::app::Theme::dark;
    if (a.presenter) {
      st.arrangement = gs::app::Arrangement::presenter;
      st.formulas_open = false;  // one line: the maps get the height
    }
    st.side = a.side == "tabs" ? gs::app::SideMode::tabs : gs::app::SideMode::column;
    controller.apply(gs::app::req::SetSettings{st});
  }
  auto step_error = [&](int step) {
    const int total = controller.total_steps();
    if (step >= 0 && step <= total) return std::string();
    return "--step " + std::to_string(step) + " is out of range: this model has " + std::to_string(controller.n_ops()) +
           " ops, so steps run 0 … " + std::to_string(total) + " (2N; step s = the first s steps done)";
  };
  // --mistake: planted on the model built before the window (the background case: not offered).
  if (!a.mistakes.empty()) {
    if (in_background) {
      glfwTerminate();
      return fail("--mistake needs the model before the window opens: use it with the tiny preset, or with "
                  "--screenshot/--frames");
    }
    for (const std::string& m : a.mistakes) {
      const size_t eq = m.find('=');
      const int op = eq == std::string::npos ? -1 : controller.session().find_op(m.substr(0, eq));
      std::string err;
      if (eq == std::string::npos) err = "--mistake '" + m + "' is not OP=KIND";
      else if (op < 0) err = "--mistake: no op '" + m.substr(0, eq) + "' on the tape (gradscope-cli ops lists them)";
      if (err.empty()) {
        try {
          controller.apply(gs::app::req::PlantMistake{op, gs::parse_mistake(m.substr(eq + 1))});
          controller.wait_jobs();
        } catch (const gs::Error& e) {
          err = std::string("--mistake: ") + e.what();
        }
        if (err.empty() && !controller.error().empty()) err = "--mistake: " + controller.error();
      }
      if (!err.empty()) {
        glfwTerminate();
        return fail(err);
      }
    }
    controller.apply(gs::app::req::RunChecks{-1, false, true});
    if (headless_run) {
      // What the Planted mistakes panel shows, in one line (scripts and tests read it).
      controller.wait_analysis();
      int pass = 0, failed = 0;
      for (int k = 0; k < controller.n_ops(); ++k)
        if (const gs::OpCheck* c = controller.check(k)) ++(c->pass ? pass : failed);
      const int first = gs::app::first_failure_from_loss(controller.n_ops(), [&](int k) { return controller.check(k); });
      printf("planted %zu mistake(s); finite differences: %d ops pass, %d fail; first disagreement from the loss: %s\n",
             a.mistakes.size(), pass, failed, first < 0 ? "none" : controller.session().op_name(first).c_str());
    }
  }
  if (a.check && a.mistakes.empty() && !in_background) {
    controller.apply(gs::app::req::RunChecks{-1, true, true});
    if (headless_run && !a.after_ms) {
      controller.wait_analysis();
      printf("%s\n", controller.status().c_str());  // what the panels show, in one line
    }
  }
  // --step over a model built in the background: applied once it is in place.
  const bool step_pending = a.step && in_background;
  const int pending_step = a.step.value_or(0);
  if (a.step && !in_background) {
    const std::string err = step_error(*a.step);
    if (!err.empty()) {
      glfwTerminate();
      return fail(err);
    }
    controller.apply(gs::app::req::JumpTo{*a.step});
  }

  // [SECTION] window and GL
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
  glfwWindowHint(GLFW_DOUBLEBUFFER, GLFW_TRUE);
  GLFWwindow* window = glfwCreateWindow(a.width, a.height, "gradscope", nullptr, nullptr);
  if (!window) {
    glfwTerminate();
    return no_display("cannot open an OpenGL 3.3 window");
  }
  glfwMakeContextCurrent(window);
  glfwSwapInterval(headless_run ? 0 : 1);
  {
    std::string err;
    if (!gs::gl::load(err)) {
      glfwDestroyWindow(window);
      glfwTerminate();
      return no_display(err.c_str());
    }
  }

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  // The layout is kept between runs (load_layout); scripted runs use the default layout so
  // their pictures do not depend on earlier sessions.
  io.IniFilename = nullptr;
  bool keep_layout = !headless_run;
  if (keep_layout) keep_layout = load_layout();
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 330");

  int rc = 0;
  {
    gs::gl::HeatmapRenderer heatmaps(gs::gl::shaders_dir());
    if (!heatmaps.error().empty()) fprintf(stderr, "gradscope: warning: %s\n", heatmaps.error().c_str());
    gs::app::App app(controller, heatmaps);
    if (a.presenter) app.presenter_layout();
    {
      std::string err;
      app.show_panels(show, err);  // titles checked above
    }
    gs::app::RequestQueue queue;

    const int frames_to_run = !a.screenshot.empty() ? 6 : a.frames;
    int walked = 0, walk_frame = 0;
    const auto opened = std::chrono::steady_clock::now();
    bool startup_pending = in_background;
    std::vector<double> frame_ms;
    bool first = true;
    unsigned font_texture = 0;
    auto last = std::chrono::steady_clock::now();
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    for (int frame = 0; !glfwWindowShouldClose(window) && !app.quit_requested() && !stop_requested; ++frame) {
      const auto t0 = std::chrono::steady_clock::now();
      glfwPollEvents();
      // Requests of the last frame, applied once, before anything is drawn (and a finished
      // job's model swapped in).
      controller.apply(queue);
      if (startup_pending && !controller.busy() && controller.waiting() == 0) {
        // The model asked for on the command line: in place, or it failed (the status bar says
        // why; a scripted run stops).
        startup_pending = false;
        if (controller.spec_generation() == startup_generation && headless_run) {
          fprintf(stderr, "gradscope: error: %s\n", controller.error().c_str());
          rc = 2;
          break;
        }
        if (step_pending && controller.spec_generation() != startup_generation) {
          const std::string err = step_error(pending_step);
          if (!err.empty() && headless_run) {
            fprintf(stderr, "gradscope: error: %s\n", err.c_str());
            rc = 2;
            break;
          }
          if (err.empty()) controller.apply(gs::app::req::JumpTo{pending_step});
        }
        if (a.check && controller.spec_generation() != startup_generation)
          controller.apply(gs::app::req::RunChecks{-1, true, true});
      }
      const double dt = std::chrono::duration<double>(t0 - last).count();
      last = t0;
      controller.tick(std::min(dt, 0.25));
      if (app.update_style() && !first) {
        ImGui_ImplOpenGL3_DestroyFontsTexture();
        ImGui_ImplOpenGL3_CreateFontsTexture();
        font_texture = 0;  // a new atlas texture (GL may hand back the same id): filter it again
      }
      first = false;

      ImGui_ImplOpenGL3_NewFrame();  // (re)creates the font atlas texture when needed
      if (const auto tex = static_cast<unsigned>(reinterpret_cast<intptr_t>(io.Fonts->TexID)); tex != font_texture) {
        font_texture = tex;
        gs::gl::set_filter(font_texture, false);
      }
      ImGui_ImplGlfw_NewFrame();
      if (mouse)
        io.MousePos = *mouse;
      else if (headless_run)
        io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);  // scripted pictures show no hover
      ImGui::NewFrame();
      app.draw(queue);
      ImGui::Render();

      int fw = 0, fh = 0;
      glfwGetFramebufferSize(window, &fw, &fh);
      const ImVec4 bg = app.palette().clear;
      gs::gl::begin_frame(fw, fh, bg.x, bg.y, bg.z);
      ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
      heatmaps.end_frame();

      const double open_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - opened).count();
      bool last_frame =
          frames_to_run > 0 && frame + 1 >= frames_to_run && (!a.after_ms || open_ms >= *a.after_ms);
      if (a.walk_lessons && ++walk_frame >= 3) {
        // Three frames of each step drawn; then on to the next, until the last step of the path.
        walk_frame = 0;
        ++walked;
        const gs::app::LessonState& st = controller.lesson();
        if (!controller.error().empty() || !controller.in_lesson()) {
          // A lesson's own errors name the lesson and the step already ("lesson ID, step N: …").
          const std::string& e = controller.error();
          if (e.rfind("lesson ", 0) == 0)
            fprintf(stderr, "gradscope: error: %s\n", e.c_str());
          else
            fprintf(stderr, "gradscope: error: lesson %s, step %d: %s\n",
                    controller.current_lesson() ? controller.current_lesson()->id.c_str() : "?", st.step + 1, e.c_str());
          rc = 2;
          break;
        }
        const bool end = st.lesson + 1 == static_cast<int>(st.path.size()) &&
                         st.step + 1 == static_cast<int>(controller.current_lesson()->steps.size());
        if (end) {
          printf("walked %d lesson steps, every one drawn without an error\n", walked);
          last_frame = true;
        } else {
          queue.push(gs::app::req::LessonNext{});
        }
      }
      if (last_frame && a.train && !controller.health().empty() && !controller.error().empty()) {
        // --screenshot-after-ms: the picture shows where training stopped; the run still fails.
        fprintf(stderr, "gradscope: error: %s\n", controller.error().c_str());
        rc = 2;
      }
      if (last_frame && !a.screenshot.empty()) {
        std::string err;
        if (!gs::gl::save_png(a.screenshot, fw, fh, err)) {
          fprintf(stderr, "gradscope: error: %s\n", err.c_str());
          rc = 2;
        } else {
          printf("wrote %s (%dx%d) at step %d of %d: %s\n", a.screenshot.c_str(), fw, fh, controller.step(),
                 controller.total_steps(), controller.step_title().c_str());
        }
      }
      glfwSwapBuffers(window);
      if (keep_layout && io.WantSaveIniSettings) keep_layout = save_layout();
      frame_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      if (last_frame) break;
      // While a job runs, 30 frames a second show its progress well: the rest of the machine
      // goes to the job (without vsync, a software renderer would take all of it).
      if (controller.busy()) {
        const auto next = t0 + std::chrono::milliseconds(33);
        if (std::chrono::steady_clock::now() < next) std::this_thread::sleep_until(next);
      }
    }
    if (a.frames > 0 && a.screenshot.empty()) {
      double sum = 0;
      for (double m : frame_ms) sum += m;
      // The first frames build fonts and upload every heatmap; they are counted too.
      printf("frames %zu: mean %.2f ms, p95 %.2f ms, max %.2f ms (%s, %zu heatmaps cached, %lld uploads)\n",
             frame_ms.size(), frame_ms.empty() ? 0.0 : sum / double(frame_ms.size()), percentile(frame_ms, 0.95),
             percentile(frame_ms, 1.0), gs::gl::renderer_name().c_str(), heatmaps.cached(),
             static_cast<long long>(heatmaps.uploads()));
    }
  }

  if (keep_layout) save_layout();
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return rc;
}
