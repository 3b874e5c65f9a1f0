// The dispatch list: every panel of the app, in drawing order; and the frame every panel's
// window shares (Panel::draw). A new panel is one file
// (panel_<name>.cpp with a make_<name>_panel()) and one line here.
#include <imgui.h>

#include "controller.h"
#include "panel.h"

namespace gs::app {

void Panel::draw(const Controller& c, PanelContext& ctx) {
  if (ImGui::Begin(title(), &open, window_flags())) {
    if (needs_model() && !c.has_session())
      ImGui::TextDisabled("no model");
    else
      contents(c, ctx);
  }
  ImGui::End();
}

std::vector<std::unique_ptr<Panel>> make_panels() {
  std::vector<std::unique_ptr<Panel>> p;
  p.push_back(make_model_panel());
  p.push_back(make_transport_panel());
  p.push_back(make_tape_panel());
  p.push_back(make_inspector_panel());
  // These start closed (View menu): the default layout above fills the window.
  p.push_back(make_graph_panel());       // the computation graph, current op lit
  p.push_back(make_fd_panel());          // finite differences: table, error vs eps curve, every op
  p.push_back(make_flops_panel());       // per-op FLOPs, the closed form of "Backpropagating through GPT-2", the LoRA saving
  p.push_back(make_training_panel());    // loss curve, gradient norm per layer, optimiser
  p.push_back(make_attention_panel());   // attention maps per head over the tokens
  p.push_back(make_mistakes_panel());    // plant a backprop mistake and find it
  p.push_back(make_wiggle_panel());      // drag one parameter entry: the loss, its slope, the central difference
  p.push_back(make_update_panel());      // one optimiser step: before, step, after, the loss's change
  p.push_back(make_lesson_panel());      // the lesson step on screen
  p.push_back(make_lessons_panel());     // the start screen: the path of lessons
  return p;
}

}  // namespace gs::app
