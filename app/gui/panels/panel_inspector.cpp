// Op inspector: the cursor's op as the row of the backprop tutorial's table,
//     op | local derivative wrt input | incoming residual | outgoing residual | gradient
// each tensor a heatmap with its rows and columns labelled (tokens, heads, channels …); the
// op's sentence in plain words and its formulas (foldable); the chain rule of the entry under
// the pointer (or clicked) with its numbers, its sources lit up in the other maps; what the
// model predicts at the output ops; and, where a value is used more than once, its gradient as
// the sum of its shares. In the forward half it shows the op's inputs, parameters and output.
//
// The maps take the room the window has: the panel plans each column's height from what is
// under the table (shares, predictions, a picked entry's chain rule) before drawing it.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <map>
#include <type_traits>

#include "analysis.h"
#include "axis_labels.h"
#include "chain_rule.h"
#include "format.h"
#include "panel.h"
#include "predictions.h"
#include "widgets.h"

namespace gs::app {

namespace {

template <class S>
struct ScalarOf;
template <class T>
struct ScalarOf<Session<T>> {
  using type = T;
};

template <class T>
struct LdCache {
  uint64_t version = ~uint64_t{0};
  int op = -1, row = -1;
  uint64_t serial = 0;  // heatmap cache key for the items (owned buffers get new addresses)
  LocalDerivative<T> ld;
};

// Words for the table's columns, and what each means (the tooltips of the headers).
constexpr const char* kOutputTip =
    "What this op computed in the forward pass: its output, the value the next ops read.";
constexpr const char* kLocalTip =
    "How this op's output moves when one of its inputs (or parameters) moves a little, at this step's values: the "
    "op's own factor in the chain rule. It needs nothing from the rest of the network.";
constexpr const char* kIncomingTip =
    "∂L/∂(this op's output): the gradient arriving from the ops after it, the \"residual\" of the backprop tutorial. "
    "Where the output feeds several ops, it is the sum of their shares.";
constexpr const char* kOutgoingTip =
    "∂L/∂(this op's input) = local derivative × incoming residual: what this op sends back to the op that made its "
    "input (that op's incoming residual, or its share of it). Hover an entry for its arithmetic; click to keep it.";
constexpr const char* kGradientTip =
    "∂L/∂(a parameter) = local derivative with respect to the parameter × incoming residual: what the optimiser "
    "uses to change that parameter. Hover an entry for its arithmetic; click to keep it.";
constexpr const char* kShareTip =
    "This op's share: the value is read by several ops, and each sends back its own part of ∂L/∂value (its outgoing "
    "residual). The value's gradient is the sum of the shares (the table under the maps adds them up).";
constexpr const char* kSumTip =
    "Σ of shares: this op's output is read by several ops; each sends back a share, and the incoming residual is "
    "their sum (the table under the maps adds them up).";
constexpr const char* kActsAsTip =
    "\"acts as ·Wᵀ\": a matmul's local derivative is a whole matrix, not one number per entry. It is applied by "
    "multiplying: the incoming residual times Wᵀ (the same W the forward pass used, transposed) gives the outgoing "
    "residual.";
constexpr const char* kSharesTip =
    "A value read by several ops gets one share of its gradient from each of them (this op's share is its outgoing "
    "residual); its full gradient ∂L/∂value is their sum. Backprop adds them up (+=), never overwrites.";

// One thing in a column of the table: a map, or a line of text.
struct Item {
  enum Kind { map, scalar, text, pending } kind = text;
  std::string caption;
  TensorRef t;
  ColorMode mode = ColorMode::sequential;
  uint64_t version = 0;
  TensorId id{Part::output, 0};
  const std::vector<std::string>* axes = nullptr;
  std::string words;  // text items; pending: why
  ImU32 colour = 0;   // text colour (0: the default)
  Shape shape;        // pending: the shape to come
  int64_t mark_row = -1;
  std::string zero_reason;
  bool gradient = false;  // a gradient map (may share the colour scale)
  bool compact = false;   // its numbers in one line (a crowded column)
  bool inline_number = false;  // a scalar beside maps that are short of room: one line, not large
  double range = 0;
  float height = 0;       // planned height of the map itself
  std::string full_caption;  // the caption before it was cut to one line (presenter), else ""
};
struct Column {
  const char* header = "";
  const char* tip = "";
  std::vector<Item> items = {};
  bool row_picker = false;
  const char* shorter = nullptr;  // where the header does not fit
  const char* shortest = nullptr;
};

class InspectorPanel final : public Panel {
 public:
  const char* title() const override { return "Op inspector"; }
  Role role() const override { return Role::main; }

  void contents(const Controller& c, PanelContext& ctx) override {
    c.session().visit([&](const auto& s) { body(c, ctx, s); });
  }

 private:
  template <class T>
  LdCache<T>& cache() {
    if constexpr (std::is_same_v<T, float>)
      return ld_f_;
    else
      return ld_d_;
  }

  template <class T>
  const LocalDerivative<T>& local(const Controller& c, const Tape<T>& tape, int k, int row) {
    LdCache<T>& lc = cache<T>();
    if (lc.version != c.version() || lc.op != k || lc.row != row) {
      lc.version = c.version();
      lc.op = k;
      lc.row = row;
      lc.serial = ++serial_;
      lc.ld = tape.local_derivative(k, row);
    }
    return lc.ld;
  }

  // The Jacobian row the selection asks for, clamped to the op's rows.
  template <class T>
  static int row_of(const Controller& c, const Tape<T>& tape, int k) {
    const Op<T>& op = tape.op(k);
    if (op.in.empty()) return 0;
    const int rows = static_cast<int>(tape.value(op.in[0]).data.rows());
    // Unless a row was picked: the last position of the first row block (for softmax, the query
    // that sees every key, so its Jacobian is the richest).
    const int last = tape.batch().T > 0 ? tape.batch().T - 1 : rows - 1;  // a lesson's (T,T): its last row
    const int row = c.selection().row >= 0 ? c.selection().row : last;
    return std::clamp(row, 0, std::max(rows - 1, 0));
  }

  static std::string key_of(TensorId id) { return "insp:" + tensor_key(id); }
  static bool parse_key(const std::string& key, TensorId& id) {
    return key.rfind("insp:", 0) == 0 && parse_tensor_key(key.substr(5), id);
  }

  // [SECTION] the whole panel
  template <class S>
  void body(const Controller& c, PanelContext& ctx, const S& s) {
    using T = typename ScalarOf<S>::type;
    const Tape<T>& tape = *s.tape;
    const int k = std::clamp(c.selection().op, 0, tape.size() - 1);
    const bool backward = c.in_backward();
    presenter_ = c.settings().arrangement == Arrangement::presenter;
    refresh_text(c, tape);
    header(c, ctx, tape, k);
    formulas(c, ctx, tape, k, c.at_start() ? -1 : backward ? 2 : 0);
    tokens_line(c, ctx, tape);
    scale_toggle(c, ctx, tape, k, !text_.empty() && text_.glyph);
    const int row = row_of(c, tape, k);
    const LocalDerivative<T>& ld = local(c, tape, k, row);
    links(c, ctx, tape, k, ld, row);
    // What goes under the table, to plan the maps' height.
    collect_shares(c, tape, k);
    refresh_predictions(c, tape);
    const float line = ImGui::GetTextLineHeightWithSpacing();
    float below = 0;
    if (pinned_.ok || !pinned_.why_not.empty()) below += 3.2f * line;
    if (show_predictions(tape, k)) below += predictions_height(ctx);
    // (In the presenter layout the maps come first: the shares are a scroll away.)
    if (!sums_.empty() && !presenter_)
      below += (2.2f + static_cast<float>(sums_.size())) * line + ImGui::GetStyle().ItemSpacing.y * 2;
    // What the plan missed last frame at this op and size (wrapped words, spacing) comes off
    // this frame's plan, so the table ends where it should.
    const ImVec2 win = ImGui::GetWindowSize();
    const uint64_t fit_key = (c.version() * 1000003u + static_cast<uint64_t>(k) * 2 + backward) * 1000003u +
                             static_cast<uint64_t>(win.x) * 4099u + static_cast<uint64_t>(win.y) +
                             static_cast<uint64_t>(ctx.scale * 100) + (presenter_ ? 7u : 0u);
    if (fit_key != fit_key_) {
      fit_key_ = fit_key;
      fix_ = 0;
    }
    const float table_h = std::max(ImGui::GetContentRegionAvail().y - below - fix_, 9.0f * line);
    std::vector<Column> cols = backward ? backward_columns(c, ctx, tape, k, ld, row) : forward_columns(c, ctx, tape, k);
    const float y0 = ImGui::GetCursorPosY();
    draw_table(c, ctx, tape, k, cols, table_h, row);
    const float excess = ImGui::GetCursorPosY() - y0 - table_h;
    if (excess > 1.0f && fix_ < table_h)
      fix_ += excess;
    else if (excess < -line && fix_ > 0)  // room to give back (a line of slack, so it does not swing)
      fix_ = std::max(0.0f, fix_ + excess + 0.5f * line);
    pinned_box(c, ctx);
    if (show_predictions(tape, k)) predictions_strip(c, ctx, tape);
    shares(c, ctx, tape, k);
  }

  // The text the model reads (GPT-2), for the labels: refreshed when the model changes.
  template <class T>
  void refresh_text(const Controller& c, const Tape<T>& tape) {
    if (text_version_ == c.version()) return;
    text_version_ = c.version();
    text_ = TokenText{};
    if (!c.session().is_gpt2()) return;
    text_.B = tape.batch().B;
    text_.T = tape.batch().T;
    text_.x = tape.batch().x;
    text_.y = tape.batch().y;
    text_.vocab = tape.config().vocab_size;
    const Controller* cp = &c;
    if (c.session().has_vocab()) text_.glyph = [cp](int32_t id) { return token_glyph(cp->session().token_text(id)); };
  }

  // [SECTION] header: the op's name, what it is, its sentence in plain words
  template <class T>
  void header(const Controller& c, PanelContext& ctx, const Tape<T>& tape, int k) {
    const Op<T>& op = tape.op(k);
    const OpTypeInfo& ti = info(op.type);
    ImGui::PushFont(ctx.fonts.big);
    ImGui::TextUnformatted(op.name.c_str());
    ImGui::PopFont();
    ImGui::SameLine(0, ImGui::GetFontSize());
    ImGui::AlignTextToFramePadding();
    if (presenter_ && !c.at_start()) {
      // The transport shows no title in the presenter layout: the half is said here.
      colored_text(c.in_backward() ? ctx.palette.backward : ctx.palette.forward, "%s", c.in_backward() ? "backward" : "forward");
      ImGui::SameLine(0, ImGui::GetStyle().ItemSpacing.x * 0.5f);
    }
    ImGui::TextDisabled("%s · op %d%s", ti.name, k, op.group.empty() ? "" : (" · " + op.group).c_str());
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("op %d: its place on the tape (the tape's # column, gradscope-cli ops); steps %d (forward) and "
                        "%d (backward) run it",
                        k, forward_step_of(k), backward_step_of(k, tape.size()));
    // What it does, in plain words: beside the name where it fits on the line, else under it.
    ImGui::SameLine();
    if (ImGui::CalcTextSize(ti.plain).x > ImGui::GetContentRegionAvail().x) ImGui::NewLine();
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(ti.plain);
    ImGui::PopTextWrapPos();
    if (op.mistake != Mistake::none && !c.settings().hide_mistakes) {
      ImGui::PushTextWrapPos(0);
      if (presenter_) {
        // One line on a projector (the maps need the height); what it does on hover.
        colored_text(ctx.palette.warn, "⚑ planted mistake in this op's backward: %s", info(op.mistake).name);
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", info(op.mistake).description);
      } else {
        colored_text(ctx.palette.warn, "⚑ planted mistake in this op's backward: %s — %s", info(op.mistake).name,
                     info(op.mistake).description);
      }
      ImGui::PopTextWrapPos();
    }
    if (c.at_start()) {
      ImGui::PushTextWrapPos(0);
      colored_text(ctx.palette.dim, "the next op: nothing computed yet — step forward (→) to run it");
      ImGui::PopTextWrapPos();
    }
  }

  // FLOPs and the finite-difference mark, on the line of the formulas' fold (where they fit).
  template <class T>
  void facts(const Controller& c, PanelContext& ctx, const Tape<T>& tape, int k) {
    const Op<T>& op = tape.op(k);
    char flops[96];
    snprintf(flops, sizeof flops, "FLOPs %s forward · %s backward", human(double(op.flops.fwd)).c_str(),
             human(double(op.flops.bwd())).c_str());
    const CheckMark m = c.check_mark(k);
    const OpCheck* oc = c.check(k);
    // The result and its kind ("✓ pass · op-local direction"); the numbers in the tooltip.
    std::string mark = oc ? check_glyph(m) + (m == CheckMark::nothing_to_check ? " nothing to check"
                                              : m == CheckMark::pass                ? " pass"
                                                                                     : " FAIL") +
                                " · " + info(oc->kind).title
                          : std::string("· not checked");
    const bool checking = c.analysis().op_busy() && c.analysis().op_requested() && c.analysis().op_requested()->op == k;
    const char* button = checking ? "checking …" : "check this op";
    const float sp = ImGui::GetStyle().ItemSpacing.x;
    const float need_mark = ImGui::CalcTextSize(("finite differences: " + mark).c_str()).x + 3 * sp +
                            ImGui::CalcTextSize(button).x + 2 * ImGui::GetStyle().FramePadding.x;
    const float need_flops = ImGui::CalcTextSize(flops).x + 2 * sp;
    // Each where it fits on the line (measured after moving there), the mark before the FLOPs.
    ImGui::SameLine(0, 2 * sp);
    if (ImGui::GetContentRegionAvail().x > need_mark + need_flops) {
      ImGui::TextDisabled("%s", flops);
      ImGui::SameLine(0, 2 * sp);
    }
    if (ImGui::GetContentRegionAvail().x < need_mark) {
      if (presenter_) {
        ImGui::NewLine();
        return;  // no room: the tape and the Finite differences panel have it
      }
      ImGui::NewLine();
    }
    ImGui::TextUnformatted("finite differences:");
    ImGui::SameLine();
    colored_text(m == CheckMark::pass ? ctx.palette.ok : m == CheckMark::fail ? ctx.palette.bad : ctx.palette.dim, "%s",
                 mark.c_str());
    if (oc && ImGui::IsItemHovered())
      ImGui::SetTooltip("%s: %lld compared, max abs err %.2e, noise floor %.2e (err/floor %.3g)", info(oc->kind).title,
                        static_cast<long long>(oc->checked), oc->max_abs_err, oc->noise_floor, oc->max_ratio);
    ImGui::SameLine();
    ImGui::BeginDisabled(checking);
    if (ImGui::SmallButton(button))
      ctx.requests.push(req::CheckOp{k, c.check_options()});  // off the UI thread, of the kind chosen
    ImGui::EndDisabled();
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
      ImGui::SetTooltip("compare this op's backward with central finite differences of the loss");
  }

  // The op's three formulas (the current half's stands out), foldable to one line.
  template <class T>
  void formulas(const Controller& c, PanelContext& ctx, const Tape<T>& tape, int k, int lit) {
    const Op<T>& op = tape.op(k);
    const OpTypeInfo& ti = info(op.type);
    const char* names[] = {"forward", "local derivative", "backward"};
    const char* text[] = {ti.forward, ti.local, ti.backward};
    const ImU32 lit_col = lit == 2 ? ctx.palette.backward : ctx.palette.forward;
    Settings st = c.settings();
    const bool open = st.formulas_open;
    ImGui::PushStyleColor(ImGuiCol_Button, IM_COL32(0, 0, 0, 0));
    if (ImGui::SmallButton(open ? "▾ formulas" : "▸ formulas")) {
      st.formulas_open = !open;
      ctx.requests.push(req::SetSettings{st});
    }
    ImGui::PopStyleColor();
    if (ImGui::IsItemHovered()) ImGui::SetTooltip(open ? "fold the formulas to one line" : "show the three formulas");
    if (!open) {
      // The current half's formula on the same line.
      const int i = lit < 0 ? 0 : lit;
      ImGui::SameLine();
      colored_text(lit < 0 ? ctx.palette.dim : lit_col, "%s:", names[i]);
      ImGui::SameLine();
      const float room = ImGui::GetContentRegionAvail().x;
      std::string f = text[i];
      ImGui::PushFont(ctx.fonts.ui);
      if (ImGui::CalcTextSize(f.c_str()).x > room) {
        // Cut at a word, with an ellipsis; the whole formula in the tooltip.
        while (!f.empty() && ImGui::CalcTextSize((f + " …").c_str()).x > room) f.pop_back();
        while (!f.empty() && (static_cast<unsigned char>(f.back()) & 0xC0) == 0x80) f.pop_back();  // whole UTF-8 characters
        if (!f.empty()) f.pop_back();
        f += " …";
      }
      ImGui::PopFont();
      ImGui::TextUnformatted(f.c_str());
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", text[i]);
      if (!presenter_) facts(c, ctx, tape, k);
      return;
    }
    facts(c, ctx, tape, k);
    if (!ImGui::BeginTable("formulas", 2, ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_NoSavedSettings)) return;
    ImGui::TableSetupColumn("what", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("formula", ImGuiTableColumnFlags_WidthStretch);
    for (int i = 0; i < 3; ++i) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      const bool on = i == lit || (lit == 2 && i == 1);
      if (on)
        colored_text(lit_col, "%s", names[i]);
      else
        ImGui::TextDisabled("%s", names[i]);
      ImGui::TableNextColumn();
      ImGui::PushTextWrapPos(0);
      if (on || lit < 0)
        ImGui::TextUnformatted(text[i]);
      else
        ImGui::TextDisabled("%s", text[i]);
      ImGui::PopTextWrapPos();
      if (std::string(text[i]).find("acts as") != std::string::npos && ImGui::IsItemHovered()) {
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 28);
        ImGui::TextUnformatted(kActsAsTip);
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
      }
    }
    ImGui::EndTable();
    if (lit == 2) {
      // The local derivative of this op, in words.
      const LocalDerivative<T>& ld = local(c, tape, k, row_of(c, tape, k));
      ImGui::PushTextWrapPos(0);
      ImGui::TextDisabled("%s", ld.text.c_str());
      ImGui::PopTextWrapPos();
    }
  }

  // GPT-2's text, one small box per token: what is read at each position and what should come
  // next. The position under the pointer in any map is lit.
  template <class T>
  void tokens_line(const Controller&, PanelContext& ctx, const Tape<T>& tape) {
    if (text_.empty() || !text_.glyph) return;
    ImFont* mono = ctx.fonts.mono;
    const float px = mono->FontSize * 0.85f, pad = 3.0f * ctx.scale;
    const int Tn = text_.T;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    float x = p.x;
    auto word = [&](const char* w) {
      dl->AddText(ctx.fonts.ui, px, ImVec2(x, p.y + pad), ctx.palette.dim, w);
      x += ctx.fonts.ui->CalcTextSizeA(px, FLT_MAX, 0, w).x + 6.0f * ctx.scale;
    };
    int shown = 0;
    auto row = [&](const std::vector<int32_t>& ids) {
      for (int t = 0; t < Tn; ++t) {
        const std::string g = text_.glyph(ids[static_cast<size_t>(t)]);
        const float w = mono->CalcTextSizeA(px, FLT_MAX, 0, g.c_str()).x + 2 * pad;
        if (x + w > right - 30.0f * ctx.scale) {
          dl->AddText(mono, px, ImVec2(x, p.y + pad), ctx.palette.dim, "…");
          x += mono->CalcTextSizeA(px, FLT_MAX, 0, "… ").x;
          return;
        }
        const bool lit = t == hover_pos_;
        dl->AddRect(ImVec2(x, p.y), ImVec2(x + w, p.y + px + 2 * pad), lit ? ctx.palette.hover : ctx.palette.chip_border,
                    3.0f * ctx.scale, 0, lit ? 2.0f * ctx.scale : 1.0f);
        dl->AddText(mono, px, ImVec2(x + pad, p.y + pad), ctx.palette.chip_text, g.c_str());
        x += w + 2.0f * ctx.scale;
        ++shown;
      }
      x += 8.0f * ctx.scale;
    };
    word(text_.B > 1 ? "batch row 0 reads" : "reads");
    row(text_.x);
    word("next, to predict");
    row(text_.y);
    ImGui::Dummy(ImVec2(std::max(1.0f, x - p.x), px + 2 * pad));
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("the text this step reads, one token per position (%d), and the next token at each position: "
                        "the targets of the loss",
                        Tn);
    (void)tape;
  }

  // [SECTION] the entry under the pointer (or picked) and what it came from
  template <class T>
  void links(const Controller& c, PanelContext& ctx, const Tape<T>& tape, int k, const LocalDerivative<T>& ld, int row) {
    marks_.clear();
    hover_pos_ = -1;
    const Selection& sel = c.selection();
    // The picked entry's chain rule stays written out under the table.
    TensorId pid;
    if (sel.pinned_op == k && sel.pinned_index >= 0 && parse_key(sel.pinned_tensor, pid)) {
      if (pin_version_ != c.version() || pin_id_ != pid || pin_index_ != sel.pinned_index || pin_op_ != k) {
        pin_version_ = c.version();
        pin_id_ = pid;
        pin_index_ = sel.pinned_index;
        pin_op_ = k;
        pinned_ = (pid.part == Part::outgoing || pid.part == Part::param_grad) && c.in_backward()
                      ? explain_entry(tape, k, pid, sel.pinned_index)
                      : ChainRule{};
        pinned_name_ = name_of(c, tape, k, pid) + pinned_.entry;
      }
    } else {
      pinned_ = ChainRule{};
      pin_op_ = -1;
    }
    TensorId id;
    int64_t index = -1;
    if (parse_key(sel.hover_tensor, id) && sel.hover_index >= 0) {
      index = sel.hover_index;
    } else if (pinned_.ok) {
      id = pin_id_;
      index = pin_index_;
    } else {
      return;
    }
    const Shape shape = tensor_shape(tape, k, ld, id);
    if (shape.empty() && id.part != Part::local) return;
    // The position the entry is at, for the tokens line.
    const std::vector<std::string>* ax = axes_of(tape, k, ld, id);
    if (ax && ax->size() == shape.size()) {
      int64_t flat = index;
      for (size_t d = shape.size(); d-- > 0;) {
        const int64_t i = flat % std::max<int64_t>(shape[d], 1);
        flat /= std::max<int64_t>(shape[d], 1);
        if ((*ax)[d] == "T" || (*ax)[d] == "Tq") hover_pos_ = static_cast<int>(i);  // the first T (the query) wins
      }
    }
    if (!c.in_backward()) {
      for (ChainMark& m : same_entry(tape, k, ld, id, index)) marks_[m.tensor].push_back({m.entries, ctx.palette.hover, false});
      return;
    }
    // A Jacobian per row: the row the entry is in is the one to show.
    if (info(tape.op(k).type).row_jacobian && !shape.empty() &&
        (id.part == Part::outgoing || id.part == Part::incoming || id.part == Part::output) && !tape.op(k).in.empty() &&
        shape == tape.value(tape.op(k).in[0]).data.shape) {
      const int r = static_cast<int>(index / std::max<int64_t>(shape.back(), 1));
      if (r != row) ctx.requests.push(req::SelectRow{r});
    }
    for (ChainMark& m : same_entry(tape, k, ld, id, index)) marks_[m.tensor].push_back({m.entries, ctx.palette.hover, false});
    if (id.part == Part::outgoing || id.part == Part::param_grad) {
      const ChainRule& r = explained(c, tape, k, id, index);
      if (!r.ok) return;
      for (const ChainMark& m : r.marks) {
        if (m.tensor == id) continue;
        // Factors from another row's Jacobian than the one shown light nothing.
        if (m.tensor.part == Part::local && r.ld_row >= 0 && r.ld_row != row) continue;
        marks_[m.tensor].push_back({m.entries, ctx.palette.warn, true});
        // A matmul's factor shown as a local-derivative item is the operand itself: light it there too.
        if (m.tensor.part == Part::local && m.tensor.slot < static_cast<int>(ld.items.size()))
          for (const TensorId& o : operands_of(tape, k, ld.items[m.tensor.slot].tensor.data))
            marks_[o].push_back({m.entries, ctx.palette.warn, true});
      }
    }
  }

  // The chain rule of one entry, kept while the pointer stays on it.
  template <class T>
  const ChainRule& explained(const Controller& c, const Tape<T>& tape, int k, TensorId id, int64_t index) {
    if (ex_version_ != c.version() || ex_op_ != k || ex_id_ != id || ex_index_ != index) {
      ex_version_ = c.version();
      ex_op_ = k;
      ex_id_ = id;
      ex_index_ = index;
      ex_ = explain_entry(tape, k, id, index);
    }
    return ex_;
  }

  // The op's inputs and parameters whose data is `data` (a local-derivative item that shows one).
  template <class T>
  static std::vector<TensorId> operands_of(const Tape<T>& tape, int k, const T* data) {
    std::vector<TensorId> out;
    const Op<T>& op = tape.op(k);
    for (size_t i = 0; i < op.in.size(); ++i)
      if (tape.value(op.in[i]).data.data == data) out.push_back({Part::input, static_cast<int>(i)});
    for (size_t j = 0; j < op.par.size(); ++j)
      if (tape.model().params()[op.par[j]].data.data == data) out.push_back({Part::param, static_cast<int>(j)});
    return out;
  }

  // The letters of one of op k's tensors. A local-derivative item that shows a tape tensor has
  // that tensor's; the op's own (a Jacobian of one row, a mask, a one-hot) get theirs here.
  template <class T>
  const std::vector<std::string>* axes_of(const Tape<T>& tape, int k, const LocalDerivative<T>& ld, TensorId id) {
    const Op<T>& op = tape.op(k);
    const auto& params = tape.model().params();
    switch (id.part) {
      case Part::input:
      case Part::outgoing:
        return id.slot < static_cast<int>(op.in.size()) ? &tape.value(op.in[id.slot]).axes : nullptr;
      case Part::param:
      case Part::param_grad: return id.slot < static_cast<int>(op.par.size()) ? &params[op.par[id.slot]].axes : nullptr;
      case Part::output:
      case Part::incoming: return &tape.value(op.out).axes;
      case Part::local: break;
    }
    if (id.slot < 0 || id.slot >= static_cast<int>(ld.items.size())) return nullptr;
    const Tensor<T>& t = ld.items[id.slot].tensor;
    for (TensorId o : operands_of(tape, k, t.data)) return axes_of(tape, k, ld, o);
    if (op.in.empty()) return nullptr;
    const Value<T>& x = tape.value(op.in[0]);
    if (t.shape == x.data.shape) return &x.axes;
    if (t.shape == tape.value(op.out).data.shape) return &tape.value(op.out).axes;
    // Square items of the last dimension: a row's Jacobian, the causal mask.
    std::vector<std::string>& a = own_axes_[id.slot];
    a.clear();
    if (t.rank() == 2 && !x.axes.empty()) {
      const std::string& last = x.axes.back();
      if (op.type == OpType::causal_mask) a = {"T", "T"};
      else if (t.dim(0) == t.dim(1) && t.dim(1) == x.data.dim(-1)) a = {last == "T" ? "Tk" : last, last == "T" ? "Tk" : last};
      else if (op.type == OpType::embedding && !op.par.empty() && !params[op.par[0]].axes.empty())
        a = {text_.B == 1 ? "T" : "B·T", params[op.par[0]].axes[0]};  // one-hot: positions × vocabulary
    }
    return a.empty() ? nullptr : &a;
  }

  // "∂L/∂h (output of wpe)", "W" …: the name of one of op k's tensors, as the captions say it.
  template <class T>
  std::string name_of(const Controller& c, const Tape<T>& tape, int k, TensorId id) {
    const Op<T>& op = tape.op(k);
    switch (id.part) {
      case Part::outgoing: return "∂L/∂" + label_of(c, tape.value(op.in[id.slot]));
      case Part::param_grad: return "∂L/∂" + tape.model().params()[op.par[id.slot]].name;
      case Part::incoming: return "∂L/∂" + c.session().value_label(k);
      case Part::output: return c.session().value_label(k);
      case Part::input: return label_of(c, tape.value(op.in[id.slot]));
      case Part::param: return tape.model().params()[op.par[id.slot]].name;
      case Part::local: return "local derivative";
    }
    return "";
  }

  // [SECTION] the columns of the table
  template <class T>
  std::vector<Column> forward_columns(const Controller& c, PanelContext& ctx, const Tape<T>& tape, int k) {
    const Op<T>& op = tape.op(k);
    const auto& params = tape.model().params();
    std::vector<Column> cols;
    static const char* input_tip = "What the op reads: the output of an earlier op, or data given to the program.";
    static const char* param_tip = "The learned numbers the op uses (what training changes).";
    if (op.in.empty()) cols.push_back({"input", input_tip, {}});
    for (size_t i = 0; i < op.in.size(); ++i) {
      Column col{op.in.size() == 1 ? "input" : i == 0 ? "input 0" : i == 1 ? "input 1" : "input 2", input_tip, {}};
      const Value<T>& v = tape.value(op.in[i]);
      Item it;
      it.caption = label_of(c, v);
      it.id = {Part::input, static_cast<int>(i)};
      it.axes = &v.axes;
      if (v.integer) {
        it.kind = Item::text;
        it.words = ids_words(c, tape, v);
      } else if (v.producer < 0 || c.forward_done(v.producer)) {
        it.kind = v.data.size() == 1 ? Item::scalar : Item::map;
        it.t = TensorRef::of(v.data);
        it.version = c.version();
      } else {
        it.kind = Item::pending;
        it.shape = v.data.shape;
      }
      col.items.push_back(std::move(it));
      cols.push_back(std::move(col));
    }
    if (!op.par.empty()) {
      Column col{"parameters", param_tip, {}};
      for (size_t j = 0; j < op.par.size(); ++j) {
        const Param<T>& prm = params[op.par[j]];
        Item it;
        it.kind = prm.data.size() == 1 ? Item::scalar : Item::map;
        it.caption = prm.name + (prm.trainable ? "" : "  (frozen)");
        it.t = TensorRef::of(prm.data);
        it.version = c.version();
        it.id = {Part::param, static_cast<int>(j)};
        it.axes = &prm.axes;
        col.items.push_back(std::move(it));
      }
      cols.push_back(std::move(col));
    }
    Column out{"output", kOutputTip, {}};
    const Value<T>& o = tape.value(op.out);
    Item it;
    it.caption = c.session().value_label(k);
    it.id = {Part::output, 0};
    it.axes = &o.axes;
    if (c.forward_done(k)) {
      it.kind = o.data.size() == 1 ? Item::scalar : Item::map;
      it.t = TensorRef::of(o.data);
      it.version = c.version();
    } else {
      it.kind = Item::pending;
      it.shape = o.data.shape;
    }
    out.items.push_back(std::move(it));
    cols.push_back(std::move(out));
    (void)ctx;
    return cols;
  }

  template <class T>
  std::vector<Column> backward_columns(const Controller& c, PanelContext& ctx, const Tape<T>& tape, int k,
                                       const LocalDerivative<T>& ld, int row) {
    const Op<T>& op = tape.op(k);
    const auto& params = tape.model().params();
    const bool rowj = info(op.type).row_jacobian;
    std::vector<Column> cols;
    // op output
    {
      Column col{"op output", kOutputTip, {}};
      col.shorter = "output";
      const Value<T>& out = tape.value(op.out);
      Item it;
      it.kind = out.data.size() == 1 ? Item::scalar : Item::map;
      it.caption = c.session().value_label(k);
      it.t = TensorRef::of(out.data);
      it.version = c.version();
      it.id = {Part::output, 0};
      it.axes = &out.axes;
      if (rowj) it.mark_row = row;
      col.items.push_back(std::move(it));
      cols.push_back(std::move(col));
    }
    // local derivative
    {
      Column col{"local derivative", kLocalTip, {}};
      col.shorter = "local deriv.";
      col.shortest = "local";
      col.row_picker = rowj && !op.in.empty();
      const uint64_t serial = cache<T>().serial;
      for (size_t i = 0; i < ld.items.size(); ++i) {
        const auto& li = ld.items[i];
        Item it;
        it.kind = li.tensor.size() == 1 ? Item::scalar : Item::map;
        it.caption = li.label;
        it.t = TensorRef::of(li.tensor, li.transposed);
        it.mode = ColorMode::diverging;
        it.version = serial;
        it.id = {Part::local, static_cast<int>(i)};
        it.axes = axes_of(tape, k, ld, it.id);
        col.items.push_back(std::move(it));
      }
      cols.push_back(std::move(col));
    }
    // incoming residual
    {
      Column col{"incoming residual ∂L/∂out", kIncomingTip, {}};
      col.shorter = "incoming residual";
      col.shortest = "incoming";
      const Value<T>& out = tape.value(op.out);
      // ∂L/∂ of the op's output: for an op named after a parameter (wpe), its value's own name (h),
      // so it does not read like the parameter's gradient (∂L/∂wpe.weight, in the last column).
      const std::string cap = "∂L/∂" + c.session().value_label(k);
      Item it;
      it.id = {Part::incoming, 0};
      it.axes = &out.axes;
      if (out.grad.empty()) {
        it.words = cap + ": no gradient needed (nothing trainable upstream)";
      } else if (c.incoming_ready(k)) {
        it.kind = out.grad.size() == 1 ? Item::scalar : Item::map;
        it.caption = cap + (out.uses.size() > 1 ? "  (Σ of " + std::to_string(out.uses.size()) + " shares)" : "");
        it.t = TensorRef::of(out.grad);
        it.mode = ColorMode::diverging;
        it.version = c.version();
        it.gradient = true;
        it.zero_reason = zero_reason(tape, k, it.id);
        if (rowj) it.mark_row = row;
      } else {
        it.kind = Item::pending;
        it.caption = cap;
        it.shape = out.data.shape;
      }
      col.items.push_back(std::move(it));
      cols.push_back(std::move(col));
    }
    // outgoing residuals, one per input
    {
      Column col{"outgoing residual ∂L/∂in", kOutgoingTip, {}};
      col.shorter = "outgoing residual";
      col.shortest = "outgoing";
      if (op.in.empty()) col.items.push_back(text_item("no input"));
      for (size_t i = 0; i < op.in.size(); ++i) {
        const Value<T>& v = tape.value(op.in[i]);
        std::string cap = "∂L/∂" + label_of(c, v);
        if (v.uses.size() > 1) cap += "  (this op's share)";
        Item it;
        it.id = {Part::outgoing, static_cast<int>(i)};
        it.axes = &v.axes;
        if (v.integer) {
          it.words = label_of(c, v) + ": ids, whole numbers: nothing to differentiate";
        } else if (op.din[i].empty() && v.producer < 0) {
          it.words = cap + ": data (the input given), no gradient needed";
        } else if (op.din[i].empty()) {
          it.words = cap + ": not needed (nothing trainable upstream)";
        } else if (c.backward_done(k)) {
          it.kind = op.din[i].size() == 1 ? Item::scalar : Item::map;
          it.caption = cap;
          it.t = TensorRef::of(op.din[i]);
          it.mode = ColorMode::diverging;
          it.version = c.version();
          it.gradient = true;
          it.zero_reason = zero_reason(tape, k, it.id);
          if (rowj && op.in.size() == 1) it.mark_row = row;
        } else {
          it.kind = Item::pending;
          it.caption = cap;
          it.shape = v.data.shape;
        }
        col.items.push_back(std::move(it));
      }
      cols.push_back(std::move(col));
    }
    // parameter gradients
    if (!op.par.empty()) {
      Column col{"gradient ∂L/∂param", kGradientTip, {}};
      col.shorter = "gradient";
      col.shortest = "grad.";
      for (size_t j = 0; j < op.par.size(); ++j) {
        const Param<T>& prm = params[op.par[j]];
        std::string cap = "∂L/∂" + prm.name;
        Item it;
        it.id = {Part::param_grad, static_cast<int>(j)};
        it.axes = &prm.axes;
        if (op.dpar[j].empty()) {
          it.words = cap + ": frozen, no gradient computed or applied";
          it.colour = ctx.palette.warn;
        } else if (c.backward_done(k)) {
          if (op.dpar[j].data != prm.grad.data) cap += "  (this op's share)";
          it.kind = op.dpar[j].size() == 1 ? Item::scalar : Item::map;
          it.caption = cap;
          it.t = TensorRef::of(op.dpar[j]);
          it.mode = ColorMode::diverging;
          it.version = c.version();
          it.gradient = true;
          it.zero_reason = zero_reason(tape, k, it.id);
        } else {
          it.kind = Item::pending;
          it.caption = cap;
          it.shape = prm.data.shape;
        }
        col.items.push_back(std::move(it));
      }
      cols.push_back(std::move(col));
    }
    share_scales(c, cols);
    return cols;
  }

  static Item text_item(std::string words) {
    Item it;
    it.words = std::move(words);
    return it;
  }

  // One symmetric colour scale for the gradient maps of one shape (where there are two or more),
  // so their colours compare; each on its own with Settings::shared_scale off.
  void share_scales(const Controller& c, std::vector<Column>& cols) {
    if (!c.settings().shared_scale) return;
    std::vector<Item*> grads;
    for (Column& col : cols)
      for (Item& it : col.items)
        if (it.gradient && it.kind == Item::map) grads.push_back(&it);
    std::vector<bool> done(grads.size(), false);
    for (size_t i = 0; i < grads.size(); ++i) {
      if (done[i]) continue;
      std::vector<size_t> same;
      for (size_t j = i; j < grads.size(); ++j)
        if (!done[j] && grads[j]->t.shape == grads[i]->t.shape) same.push_back(j);
      for (size_t j : same) done[j] = true;
      if (same.size() < 2) continue;
      double m = 0;
      for (size_t j : same) m = std::max(m, absmax(c, grads[j]->t));
      if (m > 0)
        for (size_t j : same) grads[j]->range = m;
    }
  }

  // max |x| of a tensor, kept per data pointer while the model does not change.
  double absmax(const Controller& c, const TensorRef& t) {
    if (absmax_version_ != c.version()) {
      absmax_version_ = c.version();
      absmax_.clear();
    }
    auto it = absmax_.find(t.data);
    if (it != absmax_.end()) return it->second;
    const double m = compute_stats(t).absmax;
    absmax_[t.data] = m;
    return m;
  }

  // Why a gradient is all zero where there is a reason to say (LoRA's B starts at 0).
  template <class T>
  std::string zero_reason(const Tape<T>& tape, int k, TensorId id) {
    const Op<T>& op = tape.op(k);
    auto B_is_zero = [&](const Op<T>& up) {
      if (up.type != OpType::lora_up || up.par.empty()) return false;
      const Tensor<T>& B = tape.model().params()[up.par[0]].data;
      return std::all_of(B.begin(), B.end(), [](T v) { return v == T(0); });
    };
    const char* why =
        "B starts at 0 (LoRA's init), so ∂L/∂U = (α/r)·∂L/∂Y′·Bᵀ = 0; after one optimiser step B is not 0 and this "
        "fills in";
    if (op.type == OpType::lora_up && id.part == Part::outgoing && id.slot == 1 && B_is_zero(op)) return why;
    if (op.type == OpType::lora_down) {
      const Value<T>& U = tape.value(op.out);
      for (const Use& u : U.uses)
        if (B_is_zero(tape.op(u.op)) && (id.part == Part::incoming || id.part == Part::param_grad || id.part == Part::outgoing))
          return why;
    }
    return "";
  }

  // [SECTION] drawing the table
  template <class T>
  void draw_table(const Controller& c, PanelContext& ctx, const Tape<T>& tape, int k, std::vector<Column>& cols,
                  float table_h, int row) {
    const int n = static_cast<int>(cols.size());
    if (n == 0) return;
    const ImGuiStyle& st = ImGui::GetStyle();
    const float line = ImGui::GetTextLineHeightWithSpacing();
    const float col_w = (ImGui::GetContentRegionAvail().x - st.CellPadding.x * 2 * n) / n - 2.0f;
    const float header_h = ImGui::GetFrameHeight() + st.CellPadding.y * 2;
    const float cell_h = table_h - header_h - st.CellPadding.y * 2 - st.ItemSpacing.y;
    TensorViewOptions base = map_options();
    // On a projector a caption is one line, cut with an ellipsis (all of it on hover): six lines
    // of "(output of h.1.attn.c_attn.lora_A)" in a narrow column would push the maps off screen.
    if (presenter_)
      for (Column& col : cols)
        for (Item& it : col.items) {
          if (it.caption.empty() || ImGui::CalcTextSize(it.caption.c_str()).x <= col_w) continue;
          it.full_caption = it.caption;
          std::string cut = it.caption;
          while (!cut.empty() && ImGui::CalcTextSize((cut + "…").c_str()).x > col_w) {
            // One whole UTF-8 character: its continuation bytes, then the byte that leads it.
            unsigned char b = 0;
            do {
              b = static_cast<unsigned char>(cut.back());
              cut.pop_back();
            } while (!cut.empty() && (b & 0xC0) == 0x80);
          }
          while (!cut.empty() && cut.back() == ' ') cut.pop_back();
          it.caption = cut + "…";
        }
    // Plan each column: text and numbers take their lines, maps share the rest by how tall
    // they would like to be.
    for (Column& col : cols) {
      // Full numbers under each map where the column has the room, else one line each.
      for (int pass = 0; pass < 2; ++pass) {
        TensorViewOptions o = base;
        o.compact = base.compact || pass == 1;
        float fixed = col.row_picker ? ImGui::GetFrameHeightWithSpacing() : 0.0f;
        float want = 0;
        int maps = 0;
        for (Item& it : col.items) {
          const float cap = it.caption.empty() ? 0.0f
                                               : ImGui::CalcTextSize(it.caption.c_str(), nullptr, false, col_w).y +
                                                     st.ItemSpacing.y;
          fixed += 2 * st.ItemSpacing.y;  // the spacing after the item
          it.compact = o.compact;
          // A map's caption sits closer to it than other lines do (the map's own spacing).
          const float map_cap = it.caption.empty() ? 0.0f : ImGui::CalcTextSize(it.caption.c_str(), nullptr, false, col_w).y;
          const float one_line = ImGui::GetTextLineHeight();
          switch (it.kind) {
            case Item::map:
              fixed += map_overhead(ctx, o, it.axes != nullptr) - one_line + map_cap;
              it.height = map_natural_height(ctx, it.t.rows(), it.t.cols(), col_w - 3.0f * ImGui::GetFontSize());
              want += it.height;
              ++maps;
              break;
            case Item::scalar: fixed += cap + ImGui::GetFontSize() * 1.6f + 2 * line; break;
            case Item::pending: fixed += cap + 4.0f * line; break;
            case Item::text: fixed += ImGui::CalcTextSize(it.words.c_str(), nullptr, false, col_w).y + line; break;
          }
        }
        float room = std::max(0.0f, cell_h - fixed);
        if (pass == 0 && !base.compact && maps > 0 && room < std::min(want, 120.0f * ctx.scale * maps)) continue;
        // Maps short of room: a number beside them (∂Y/∂b = 1) takes one line, not three.
        if (maps > 0 && want > room)
          for (Item& it : col.items)
            if (it.kind == Item::scalar) {
              it.inline_number = true;
              room += ImGui::GetFontSize() * 1.6f + 2 * line - line;
            }
        const float k_scale = want > room && want > 0 ? room / want : 1.0f;
        for (Item& it : col.items)
          if (it.kind == Item::map) it.height = std::max(24.0f * ctx.scale, it.height * k_scale);
        break;
      }
    }
    if (!ImGui::BeginTable("row", n,
                           ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_BordersOuter | ImGuiTableFlags_Resizable |
                               ImGuiTableFlags_SizingStretchSame | ImGuiTableFlags_NoSavedSettings))
      return;
    // The longest header that fits the column.
    std::vector<const char*> heads;
    for (const Column& col : cols) {
      const char* h = col.header;
      for (const char* alt : {col.shorter, col.shortest})
        if (alt && ImGui::CalcTextSize(h).x > col_w - 4.0f) h = alt;
      heads.push_back(h);
    }
    for (const char* h : heads) ImGui::TableSetupColumn(h);
    // Headers with what each column means, on hover.
    ImGui::TableNextRow(ImGuiTableRowFlags_Headers);
    for (int i = 0; i < n; ++i) {
      ImGui::TableSetColumnIndex(i);
      ImGui::TableHeader(heads[i]);
      if (ImGui::IsItemHovered()) {
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 28);
        ImGui::TextUnformatted(cols[i].tip);
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
      }
    }
    ImGui::TableNextRow();
    for (int i = 0; i < n; ++i) {
      ImGui::TableSetColumnIndex(i);
      Column& col = cols[i];
      if (col.row_picker) row_picker(c, ctx, tape, k, row);
      for (Item& it : col.items) {
        draw_item(c, ctx, tape, k, it);
        ImGui::Spacing();
      }
    }
    ImGui::EndTable();
  }

  // One colour scale for the gradient maps that have one shape, or each its own: one click, at
  // the end of the line above the table.
  template <class T>
  void scale_toggle(const Controller& c, PanelContext& ctx, const Tape<T>& tape, int k, bool same_line) {
    if (!c.in_backward()) return;
    // Only where two gradient maps of this op have one shape.
    const Op<T>& op = tape.op(k);
    std::vector<Shape> shapes;
    auto add = [&](const Tensor<T>& g) {
      if (!g.empty() && g.size() > 1) shapes.push_back(g.shape);
    };
    add(tape.value(op.out).grad);
    for (const auto& d : op.din) add(d);
    for (const auto& d : op.dpar) add(d);
    std::sort(shapes.begin(), shapes.end());
    if (std::adjacent_find(shapes.begin(), shapes.end()) == shapes.end()) return;
    Settings s = c.settings();
    bool on = s.shared_scale;
    const char* label = "one colour scale";
    auto width = [](const char* l) {
      return ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize(l).x;
    };
    const float right = ImGui::GetWindowContentRegionMax().x;
    if (same_line) ImGui::SameLine();
    // Short of room on the line, a shorter label before a line of its own; on a projector not a
    // line of its own (the maps need the height): Settings ▸ one colour scale has it then.
    if (same_line && ImGui::GetCursorPosX() + width(label) + ImGui::GetStyle().ItemSpacing.x > right) {
      label = "one scale";
      if (presenter_ && ImGui::GetCursorPosX() + width(label) + ImGui::GetStyle().ItemSpacing.x > right) {
        ImGui::NewLine();
        return;
      }
    }
    const float w = width(label);
    if (same_line && ImGui::GetCursorPosX() + w + ImGui::GetStyle().ItemSpacing.x > right) ImGui::NewLine();
    ImGui::SetCursorPosX(std::max(ImGui::GetCursorPosX(), right - w));
    if (ImGui::Checkbox((std::string(label) + "###one scale").c_str(), &on)) {
      s.shared_scale = on;
      ctx.requests.push(req::SetSettings{s});
    }
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("on: this op's gradient maps of one shape share ±max|x|, so a colour means the same number in each "
                        "(the legend says \"shared\" in its tooltip); off: each map on its own scale");
  }

  TensorViewOptions map_options() const {
    TensorViewOptions o;
    o.compact = presenter_;
    return o;
  }

  template <class T>
  void draw_item(const Controller& c, PanelContext& ctx, const Tape<T>& tape, int k, const Item& it) {
    switch (it.kind) {
      case Item::text:
        if (it.colour) ImGui::PushStyleColor(ImGuiCol_Text, it.colour);
        ImGui::PushTextWrapPos(0);
        ImGui::TextUnformatted(it.words.c_str());
        ImGui::PopTextWrapPos();
        if (it.colour) ImGui::PopStyleColor();
        return;
      case Item::pending: not_computed(ctx, it.caption, it.shape); return;
      case Item::map:
      case Item::scalar: break;
    }
    TensorViewOptions o = map_options();
    o.compact = it.compact;
    o.inline_number = it.inline_number;
    o.max_height = it.height;
    o.axes = it.axes;
    o.text = &text_;
    o.hover_key = key_of(it.id);
    o.mark_row = it.mark_row;
    o.range = it.range;
    o.zero_reason = it.zero_reason;
    const std::string& whole = it.full_caption.empty() ? it.caption : it.full_caption;
    if (whole.find("Σ of") != std::string::npos) o.caption_tip = kSumTip;
    else if (whole.find("share)") != std::string::npos) o.caption_tip = kShareTip;
    else if (!it.full_caption.empty()) o.caption_tip = it.full_caption.c_str();
    auto m = marks_.find(it.id);
    if (m != marks_.end()) o.marks = &m->second;
    const Selection& sel = c.selection();
    if (sel.pinned_op == k && sel.pinned_tensor == o.hover_key) o.pinned = sel.pinned_index;
    const bool explains = c.in_backward() && (it.id.part == Part::outgoing || it.id.part == Part::param_grad);
    if (explains) {
      o.tooltip = [&, id = it.id](int64_t index) {
        const ChainRule& r = explained(c, tape, k, id, index);
        ImGui::Separator();
        chain_words(ctx, r, ImGui::GetFontSize() * 26);
        ImGui::TextDisabled("click to keep it written out under the table");
      };
    }
    tensor_view(c, ctx, it.caption, it.t, it.mode, it.version, o);
  }

  // The chain rule of an entry, in words and numbers.
  void chain_words(PanelContext& ctx, const ChainRule& r, float wrap) {
    ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + wrap);
    if (!r.ok) {
      ImGui::TextDisabled("%s", r.why_not.c_str());
      ImGui::PopTextWrapPos();
      return;
    }
    ImGui::TextDisabled("outgoing = local derivative × incoming: %s", r.how.c_str());
    ImGui::PushFont(ctx.fonts.mono);
    ImGui::TextUnformatted(arithmetic(r).c_str());
    colored_text(r.agrees() ? ctx.palette.ok : ctx.palette.bad, "%s", agreement(r).c_str());
    ImGui::PopFont();
    ImGui::PopTextWrapPos();
  }

  template <class T>
  void row_picker(const Controller& c, PanelContext& ctx, const Tape<T>& tape, int k, int row) {
    const Op<T>& op = tape.op(k);
    const Value<T>& x = tape.value(op.in[0]);
    const int rows = static_cast<int>(x.data.rows());
    std::string words = row_words(x.data.shape, x.axes, row, text_);
    if (words.empty()) words = "row " + std::to_string(row);
    std::string fmt;  // the words are the slider's text (a literal format: % doubled)
    for (char ch : words) fmt += ch == '%' ? std::string("%%") : std::string(1, ch);
    ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x);
    int r = row;
    if (ImGui::SliderInt("##row", &r, 0, rows - 1, fmt.c_str())) ctx.requests.push(req::SelectRow{r});
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("row %d: which row's Jacobian to show (outlined in the maps); hovering an entry of a map picks its "
                        "row",
                        row);
    (void)c;
  }

  // The picked entry's chain rule, under the table.
  void pinned_box(const Controller& c, PanelContext& ctx) {
    if (!pinned_.ok && pinned_.why_not.empty()) return;
    ImGui::Separator();
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted(("chain rule of " + pinned_name_).c_str());
    ImGui::SameLine();
    if (ImGui::SmallButton("let go")) ctx.requests.push(req::PinEntry{"", -1});
    chain_words(ctx, pinned_, ImGui::GetContentRegionAvail().x);
    (void)c;
  }

  // [SECTION] what the model predicts (the output ops)
  template <class T>
  bool show_predictions(const Tape<T>& tape, int k) const {
    if (!preds_.ok) return false;
    const OpType t = tape.op(k).type;
    return t == OpType::lm_head || t == OpType::log_softmax || t == OpType::nll;
  }

  template <class T>
  void refresh_predictions(const Controller& c, const Tape<T>& tape) {
    if (preds_version_ == c.version()) return;
    preds_version_ = c.version();
    preds_ = predictions(tape, 3);
  }

  float predictions_height(PanelContext& ctx) const {
    const float px = ctx.fonts.mono->FontSize * 0.8f;
    return ImGui::GetTextLineHeightWithSpacing() + 3 * (px + 2.0f * ctx.scale) + 10.0f * ctx.scale;
  }

  // One box per position: the target, the model's best guess and the target's probability.
  template <class T>
  void predictions_strip(const Controller& c, PanelContext& ctx, const Tape<T>& tape) {
    const Predictions& p = preds_;
    ImGui::Separator();
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("What the model predicts:");
    ImGui::SameLine();
    ImGui::TextDisabled("the loss %s is the mean of −log P(target) over the %zu %s", num_short(p.mean_nll).c_str(),
                        p.rows.size(), p.tokens ? "positions" : "examples");
    ImFont* mono = ctx.fonts.mono;
    const float px = mono->FontSize * 0.8f, gap = 2.0f * ctx.scale, pad = 4.0f * ctx.scale;
    const ImVec2 o = ImGui::GetCursorScreenPos();
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    auto name = [&](int32_t id) { return p.tokens && text_.glyph ? text_.glyph(id) : std::to_string(id); };
    // The row titles, then a box per position.
    const char* titles[] = {"should be", "best guess", "P(target)"};
    float x = o.x, tw = 0;
    for (const char* t : titles) tw = std::max(tw, ctx.fonts.ui->CalcTextSizeA(px, FLT_MAX, 0, t).x);
    for (int i = 0; i < 3; ++i)
      dl->AddText(ctx.fonts.ui, px, ImVec2(x, o.y + i * (px + gap) + pad), ctx.palette.dim, titles[i]);
    x += tw + 10.0f * ctx.scale;
    const float h = 3 * (px + gap) + 2 * pad;
    int shown = 0;
    int hovered = -1;
    for (const RowPrediction& r : p.rows) {
      if (p.tokens && r.batch > 0) break;  // the first batch row
      const std::string target = name(r.target), guess = name(r.top.empty() ? -1 : r.top[0].id);
      char pr[32];
      snprintf(pr, sizeof pr, "%.2f", r.p_target);
      float w = 0;
      for (const std::string& s : {target, guess + " " + num_short(r.top.empty() ? 0 : r.top[0].p), std::string(pr)})
        w = std::max(w, mono->CalcTextSizeA(px, FLT_MAX, 0, s.c_str()).x);
      w += 2 * pad;
      if (x + w > right) {
        dl->AddText(mono, px, ImVec2(x, o.y + pad), ctx.palette.dim, "…");
        break;
      }
      const bool right_guess = r.target_rank == 1;
      const ImVec2 a(x, o.y), b(x + w, o.y + h);
      dl->AddRect(a, b, static_cast<int>(r.pos) == hover_pos_ ? ctx.palette.hover : ctx.palette.chip_border, 3.0f * ctx.scale);
      dl->AddText(mono, px, ImVec2(x + pad, o.y + pad), ctx.palette.chip_text, target.c_str());
      const std::string g = guess + " " + num_short(r.top.empty() ? 0 : r.top[0].p);
      dl->AddText(mono, px, ImVec2(x + pad, o.y + pad + px + gap), right_guess ? ctx.palette.ok : ctx.palette.warn, g.c_str());
      // P(target) as a bar under its number.
      dl->AddRectFilled(ImVec2(x + 1, b.y - 3.0f * ctx.scale), ImVec2(x + 1 + (w - 2) * static_cast<float>(r.p_target), b.y - 1),
                        ctx.palette.forward);
      dl->AddText(mono, px, ImVec2(x + pad, o.y + pad + 2 * (px + gap)), ImGui::GetColorU32(ImGuiCol_Text), pr);
      const ImVec2 m = ImGui::GetIO().MousePos;
      if (m.x >= a.x && m.x < b.x && m.y >= a.y && m.y < b.y && ImGui::IsWindowHovered()) hovered = shown;
      x += w + gap * 2;
      ++shown;
    }
    ImGui::Dummy(ImVec2(std::max(1.0f, x - o.x), h));
    if (hovered >= 0) {
      const RowPrediction& r = p.rows[static_cast<size_t>(hovered)];
      ImGui::BeginTooltip();
      ImGui::PushFont(mono);
      if (p.tokens)
        ImGui::Text("position %lld reads '%s'; the next token is '%s'", static_cast<long long>(r.pos), name(r.input).c_str(),
                    name(r.target).c_str());
      else
        ImGui::Text("example %lld: the right class is %d", static_cast<long long>(r.pos), r.target);
      for (const Candidate& cd : r.top) ImGui::Text("  %-8s %.3f%s", ("'" + name(cd.id) + "'").c_str(), cd.p, cd.id == r.target ? "  ← target" : "");
      ImGui::Text("P(target) %.3f (rank %d), −log P = %s", r.p_target, r.target_rank, num_short(r.nll).c_str());
      ImGui::PopFont();
      ImGui::EndTooltip();
    }
    (void)c;
    (void)tape;
  }

  // [SECTION] values used more than once: the gradient is the sum of the shares
  struct SharePart {
    std::string user;
    int op = -1;
    double norm = 0;
  };
  struct ShareSum {
    std::string role, what;  // "input", "h (output of wpe)"
    int value = -1, param = -1;  // which gradient: a value's or a parameter's
    double total_norm = 0, diff = 0;
    std::vector<SharePart> parts;
  };

  // The numbers do not depend on the cursor: computed once per (version, op).
  template <class T>
  void collect_shares(const Controller& c, const Tape<T>& tape, int k) {
    if (shares_version_ == c.version() && shares_op_ == k) return;
    shares_version_ = c.version();
    shares_op_ = k;
    sums_.clear();
    const Op<T>& op = tape.op(k);
    auto finish = [&](ShareSum& s, const Tensor<T>& total, const std::vector<const Tensor<T>*>& parts) {
      share_numbers(total, parts, s);
      sums_.push_back(std::move(s));
    };
    auto value_sum = [&](int vid, const char* role) {
      const Value<T>& v = tape.value(vid);
      if (v.uses.size() < 2 || v.grad.empty()) return;
      ShareSum s;
      s.role = role;
      s.what = label_of(c, v);
      s.value = vid;
      std::vector<const Tensor<T>*> parts;
      for (const Use& u : v.uses) {
        s.parts.push_back({tape.op(u.op).name, u.op, 0});
        parts.push_back(&tape.op(u.op).din[u.slot]);
      }
      finish(s, v.grad, parts);
    };
    value_sum(op.out, "output");
    for (int vid : op.in) value_sum(vid, "input");
    const auto& params = tape.model().params();
    for (int p : op.par) {
      if (params[p].grad.empty()) continue;
      ShareSum s;
      s.role = "parameter";
      s.what = params[p].name;
      s.param = p;
      std::vector<const Tensor<T>*> parts;
      for (int q = 0; q < tape.size(); ++q)
        for (size_t j = 0; j < tape.op(q).par.size(); ++j)
          if (tape.op(q).par[j] == p) {
            s.parts.push_back({tape.op(q).name, q, 0});
            parts.push_back(&tape.op(q).dpar[j]);
          }
      if (parts.size() > 1) finish(s, params[p].grad, parts);
    }
  }

  // One row per value used more than once: its shares, their sum, and the check that the sum
  // is the stored gradient.
  template <class T>
  void shares(const Controller& c, PanelContext& ctx, const Tape<T>& tape, int k) {
    if (sums_.empty()) return;
    ImGui::Separator();
    ImGui::TextUnformatted("Used more than once: its gradient is the sum of one share per use");
    ImGui::SameLine();
    help_marker(kSharesTip);
    const ImGuiTableFlags flags = ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit |
                                  ImGuiTableFlags_NoSavedSettings | ImGuiTableFlags_RowBg;
    if (!ImGui::BeginTable("shares", 4, flags)) return;
    ImGui::TableSetupColumn("gradient", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("its shares, ‖·‖ of each", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn("‖Σ‖", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("Σ shares = gradient?", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableHeadersRow();
    for (const ShareSum& s : sums_) {
      ImGui::PushID((s.role + s.what).c_str());
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::Text("%s ∂L/∂%s", s.role.c_str(), s.what.c_str());
      ImGui::TableNextColumn();
      for (size_t i = 0; i < s.parts.size(); ++i) {
        const SharePart& sh = s.parts[i];
        const bool ready = c.backward_done(sh.op);
        std::string label = sh.user + (sh.op == k ? " (this op)" : "") + " " + (ready ? num_short(sh.norm) : "—");
        if (i) {
          // The next share on this line where it fits, else on the next.
          const float w = ImGui::CalcTextSize(("+ " + label).c_str()).x + 2 * ImGui::GetStyle().FramePadding.x +
                          2 * ImGui::GetStyle().ItemSpacing.x;
          ImGui::SameLine();
          if (ImGui::GetContentRegionAvail().x < w) ImGui::NewLine();
          ImGui::TextDisabled("+");
          ImGui::SameLine();
        }
        ImGui::PushID(static_cast<int>(i));
        if (sh.op == k) ImGui::PushStyleColor(ImGuiCol_Text, ctx.palette.backward);
        else if (!ready) ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetColorU32(ImGuiCol_TextDisabled));
        const bool go = ImGui::SmallButton(label.c_str());
        if (sh.op == k || !ready) ImGui::PopStyleColor();
        if (ImGui::IsItemHovered())
          ImGui::SetTooltip("%s's share%s; click to go to its backward step", sh.user.c_str(),
                            ready ? "" : " (not computed yet)");
        if (go) ctx.requests.push(req::FocusOp{sh.op, Half::backward});
        ImGui::PopID();
      }
      const bool total_ready = s.value >= 0 ? c.value_grad_ready(s.value) : c.param_grad_ready(s.param);
      ImGui::TableNextColumn();
      ImGui::PushFont(ctx.fonts.mono);
      if (total_ready)
        ImGui::TextUnformatted(num_short(s.total_norm).c_str());
      else
        ImGui::TextDisabled("—");
      ImGui::PopFont();
      ImGui::TableNextColumn();
      if (total_ready) {
        // Proof on screen: the shares, added up, give the stored gradient.
        ImGui::PushFont(ctx.fonts.mono);
        colored_text(s.diff <= 1e-6 * (1 + s.total_norm) ? ctx.palette.ok : ctx.palette.bad, "%s max diff %.1e",
                     s.diff <= 1e-6 * (1 + s.total_norm) ? "✓" : "✗", s.diff);
        ImGui::PopFont();
      } else {
        ImGui::TextDisabled("once every share is in");
      }
      ImGui::PopID();
    }
    ImGui::EndTable();
    (void)tape;
  }

  // One pass, in chunks, over a gradient and its shares: ‖total‖, each ‖share‖, and
  // max |Σ shares − total| (in double; Eigen vectorises the sums). The 124M shape's wte gradient
  // has 38.6 M entries: this runs when the cursor lands on an op, and must not freeze the UI.
  template <class T>
  static void share_numbers(const Tensor<T>& total, const std::vector<const Tensor<T>*>& parts, ShareSum& s) {
    using Vec = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
    constexpr int64_t kChunk = 4096;
    const int64_t n = total.size();
    Eigen::ArrayXd acc(kChunk);
    double total_sq = 0, diff = 0;
    std::vector<double> part_sq(parts.size(), 0.0);
    for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
      const int64_t m = std::min(kChunk, n - i0);
      acc.head(m) = -Vec(total.data + i0, m).template cast<double>();
      total_sq += acc.head(m).square().sum();
      for (size_t p = 0; p < parts.size(); ++p) {
        const auto v = Vec(parts[p]->data + i0, m).template cast<double>();
        acc.head(m) += v;
        part_sq[p] += v.square().sum();
      }
      diff = std::max(diff, acc.head(m).abs().maxCoeff());
    }
    s.total_norm = std::sqrt(total_sq);
    for (size_t p = 0; p < parts.size(); ++p) s.parts[p].norm = std::sqrt(part_sq[p]);
    s.diff = diff;
  }

  // [SECTION] small helpers

  // A value on the tape by the name of what it is (format.h's value_label); an input by its name.
  template <class T>
  static std::string label_of(const Controller& c, const Value<T>& v) {
    return v.producer >= 0 ? c.session().value_label(v.producer) : v.name + " (input)";
  }

  // An input of ids (GPT-2's tokens and targets, softmax_ce's class ids), in words.
  template <class T>
  static std::string ids_words(const Controller& c, const Tape<T>& tape, const Value<T>& v) {
    const bool tokens = v.name == "tokens" || v.name == "targets";
    std::string s = v.name + ": " +
                    (tokens ? (v.name == "tokens" ? "the token ids x, read as rows of wte (not differentiated)"
                                                  : "the next-token targets y (not differentiated)")
                            : std::string("class ids, whole numbers (not differentiated)"));
    std::string line;
    const bool text = tokens && c.session().has_vocab();  // else the ids alone
    const int64_t n = std::min<int64_t>(v.data.size(), tokens ? tape.batch().T : v.data.size());
    for (int64_t t = 0; t < std::min<int64_t>(n, 24); ++t) {
      const int32_t id = static_cast<int32_t>(v.data[t]);
      if (t) line += ' ';
      if (text) {
        line += token_glyph(c.session().token_text(id));
        line += '(';
      }
      line += std::to_string(id);
      if (text) line += ')';
    }
    if (n > 24) line += " …";
    return s + "\n" + (tokens ? (v.name == "tokens" ? "x[0]" : "y[0]") : v.name) + " = " + line;
  }

  bool presenter_ = false;
  uint64_t fit_key_ = 0;
  float fix_ = 0;  // pixels the plan of the table came short by, at this op and size
  LdCache<float> ld_f_;
  LdCache<double> ld_d_;
  uint64_t shares_version_ = ~uint64_t{0};
  int shares_op_ = -1;
  std::vector<ShareSum> sums_;
  uint64_t serial_ = uint64_t{1} << 40;  // apart from the controller's small version numbers
  TokenText text_;
  uint64_t text_version_ = ~uint64_t{0};
  std::map<int, std::vector<std::string>> own_axes_;  // letters of the op's own local-derivative items
  // The entries lit up this frame, per tensor.
  struct IdLess {
    bool operator()(const TensorId& a, const TensorId& b) const {
      return a.part != b.part ? a.part < b.part : a.slot < b.slot;
    }
  };
  std::map<TensorId, std::vector<MapMarks>, IdLess> marks_;
  int hover_pos_ = -1;  // the position of the entry under the pointer (tokens line)
  ChainRule ex_;
  uint64_t ex_version_ = ~uint64_t{0};
  int ex_op_ = -1;
  TensorId ex_id_;
  int64_t ex_index_ = -1;
  ChainRule pinned_;
  std::string pinned_name_;
  uint64_t pin_version_ = ~uint64_t{0};
  int pin_op_ = -1;
  TensorId pin_id_;
  int64_t pin_index_ = -1;
  Predictions preds_;
  uint64_t preds_version_ = ~uint64_t{0};
  std::map<const void*, double> absmax_;
  uint64_t absmax_version_ = ~uint64_t{0};
};

}  // namespace

std::unique_ptr<Panel> make_inspector_panel() { return std::make_unique<InspectorPanel>(); }

}  // namespace gs::app
