#pragma once
// What a panel may ask of the app. Panels only read the controller; every change goes through
// one of these, queued during a frame and applied by Controller::apply before the next frame
// is drawn (so every panel of a frame sees the same state).
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "gradscope/gradcheck.h"
#include "gradscope/ops.h"
#include "gradscope/session.h"
#include "gradscope/train.h"

namespace gs::app {

enum class Theme { dark, light_high_contrast };

// Presenter settings (no effect on the numbers).
struct Settings {
  float font_scale = 1.0f;   // 1 = 18 px text; Ctrl +/− step it, Ctrl 0 resets
  Theme theme = Theme::dark;
  double play_speed = 4.0;   // steps per second while playing
  bool boost_small = false;  // gradient maps on a signed-√ colour scale, so small entries show
  static constexpr float kMinFontScale = 0.6f, kMaxFontScale = 3.0f;
  static constexpr double kMinSpeed = 0.25, kMaxSpeed = 60.0;
};

// Which half of the 2N steps an op is looked at in.
enum class Half { forward, backward, current };

namespace req {
struct Step { int delta = 1; };               // move the cursor by delta steps (clamped to 0 … 2N)
struct JumpTo { int step = 0; };              // absolute step (clamped)
struct FocusOp { int op = 0; Half half = Half::current; };  // cursor to the step that runs op
struct SelectRow { int row = 0; };            // the row a Jacobian op shows
struct Hover { std::string tensor; int64_t index = -1; };  // entry under the mouse (-1: none)
struct SetPlaying { bool playing = false; };
struct TogglePlaying {};
struct SetSettings { Settings settings; };
// Jobs off the UI thread (Controller::job(), jobs.h): the model on screen stays until the new one
// is ready. Bad input keeps the old one and says what is wrong.
struct Rebuild { ModelSpec spec; };           // new model (settings, preset, checkpoint)
struct SaveCheckpoint { std::string path; };
struct OptimizerStep { OptimizerOptions opt; };
struct Train { int steps = 10; OptimizerOptions opt; };  // loss after each step as it comes
struct PlantMistake { int op = -1; Mistake mistake = Mistake::none; };
struct CancelJob {};                          // stop the running job; drop the requests waiting behind it
struct RunChecks { int op = -1; bool with_params = false; bool background = false; };  // -1: every op
// background: off the UI thread on a copy of the model (Controller::analysis(), analysis.h)
struct CheckOp { int op = -1; CheckOptions opt; };  // one op at chosen options, in the background
struct SweepEps { int op = -1; bool is_param = false; int slot = -1; int64_t index = -1; };  // error vs ε of one entry
struct CancelChecks {};                       // stop a background "every op" check
// Lessons (controller_lessons.cpp). Moving to a step replays the lesson's actions from its start
// when the model is not the one the lesson left, so a step always shows the same model.
struct OpenLesson { std::string id_or_path; int step = 1; std::string dir; };  // step 1 … n; dir "" = assets/lessons
struct LessonGo { int step = 1; };           // a step of the current lesson, 1 … n
struct LessonNext {};                        // the next step; after the last, the next lesson of the path
struct LessonBack {};                        // the step before; before the first, the last step of the lesson before
struct RevealAnswer {};                      // the current step's answer
struct LeaveLesson {};                       // explore freely; the lesson waits where it was
struct ResumeLesson {};                      // back to the lesson, where it was
// One entry of a parameter or input, set by hand (the Wiggle view's slider).
struct SetValue { std::string name; int64_t index = 0; double value = 0; };
struct WiggleAt { std::string param; int64_t index = 0; };  // the entry the Wiggle view shows
}  // namespace req

using Request = std::variant<req::Step, req::JumpTo, req::FocusOp, req::SelectRow, req::Hover, req::SetPlaying,
                             req::TogglePlaying, req::SetSettings, req::Rebuild, req::SaveCheckpoint,
                             req::OptimizerStep, req::Train, req::PlantMistake, req::RunChecks,
                             req::CheckOp, req::SweepEps, req::CancelChecks, req::CancelJob, req::OpenLesson,
                             req::LessonGo, req::LessonNext, req::LessonBack, req::RevealAnswer, req::LeaveLesson,
                             req::ResumeLesson, req::SetValue, req::WiggleAt>;

class RequestQueue {
 public:
  void push(Request r) { q_.push_back(std::move(r)); }
  bool empty() const { return q_.empty(); }
  size_t size() const { return q_.size(); }
  std::vector<Request> take() { return std::exchange(q_, {}); }

 private:
  std::vector<Request> q_;
};

}  // namespace gs::app
