// Op inspector: the cursor's op as the row
//     op | local derivative wrt input | incoming residual | outgoing residual | parameter gradient
// each tensor a heatmap with its numbers; the op's forward, local-derivative and backward
// formulas; and, where a value is used more than once, its gradient as the sum of its shares.
// In the forward half it shows the op's inputs, parameters and output instead.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "analysis.h"
#include "format.h"
#include "panel.h"
#include "widgets.h"

namespace gs::app {

namespace {

template <class S>
struct ScalarOf;
template <class T>
struct ScalarOf<Session<T>> {
  using type = T;
};

// Per-row Jacobians: these ops show one row's Jacobian, chosen with the row picker.
bool has_row_jacobian(OpType t) { return info(t).row_jacobian; }

template <class T>
struct LdCache {
  uint64_t version = ~uint64_t{0};
  int op = -1, row = -1;
  uint64_t serial = 0;  // heatmap cache key for the items (owned buffers get new addresses)
  LocalDerivative<T> ld;
};

class InspectorPanel final : public Panel {
 public:
  const char* title() const override { return "Op inspector"; }
  Rect home(const WorkArea& a) const override {
    const float l = layout::left_width(a), t = layout::top_height(a);
    return {a.x + l, a.y + t, a.w - l, a.h - t};
  }

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

  // [SECTION] the whole panel
  template <class S>
  void body(const Controller& c, PanelContext& ctx, const S& s) {
    using T = typename ScalarOf<S>::type;
    const Tape<T>& tape = *s.tape;
    const int k = std::clamp(c.selection().op, 0, tape.size() - 1);
    const Op<T>& op = tape.op(k);
    const bool backward = c.in_backward();
    header(c, ctx, tape, k);
    formulas(ctx, op, c.at_start() ? -1 : backward ? 2 : 0);
    if (backward) {
      const LocalDerivative<T>& ld = local(c, tape, k, row_of(c, tape, k));
      ImGui::PushTextWrapPos(0);
      ImGui::TextDisabled("%s", ld.text.c_str());
      ImGui::PopTextWrapPos();
    }
    ImGui::Spacing();
    // Maps take the room the window has left under the formulas (grow in a big window).
    const float line = ImGui::GetTextLineHeightWithSpacing();
    map_h_ = std::clamp(ImGui::GetContentRegionAvail().y - 7.5f * line, 150.0f * ctx.scale, 1200.0f);
    if (backward)
      backward_row(c, ctx, tape, k);
    else
      forward_row(c, ctx, tape, k);
    ImGui::Spacing();
    shares(c, ctx, tape, k);
  }

  template <class T>
  void header(const Controller& c, PanelContext& ctx, const Tape<T>& tape, int k) {
    const Op<T>& op = tape.op(k);
    ImGui::PushFont(ctx.fonts.big);
    ImGui::TextUnformatted(op.name.c_str());
    ImGui::PopFont();
    ImGui::SameLine();
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("  %s · op %d of %d%s", info(op.type).name, k, tape.size(),
                        op.group.empty() ? "" : (" · " + op.group).c_str());
    // FLOPs and the finite-difference mark beside the name where they fit, else below it.
    char flops[96];
    snprintf(flops, sizeof flops, "FLOPs  forward %s  backward %s", human(double(op.flops.fwd)).c_str(),
             human(double(op.flops.bwd())).c_str());
    ImGui::SameLine();
    ImGui::PushFont(ctx.fonts.mono);
    const float need = ImGui::CalcTextSize(flops).x + ImGui::GetFontSize() * 24;
    ImGui::PopFont();
    if (ImGui::GetContentRegionAvail().x < need) ImGui::NewLine();
    ImGui::PushFont(ctx.fonts.mono);
    ImGui::TextUnformatted(flops);
    ImGui::PopFont();
    ImGui::SameLine();
    ImGui::TextUnformatted("   finite differences:");
    ImGui::SameLine();
    const CheckMark m = c.check_mark(k);
    if (const OpCheck* oc = c.check(k)) {
      colored_text(m == CheckMark::pass ? ctx.palette.ok : m == CheckMark::fail ? ctx.palette.bad : ctx.palette.dim,
                   "%s %s", check_glyph(m).c_str(),
                   m == CheckMark::nothing_to_check ? "nothing to check" : m == CheckMark::pass ? "pass" : "FAIL");
      ImGui::SameLine();
      ImGui::PushFont(ctx.fonts.mono);
      ImGui::TextDisabled("%s: %lld compared, max abs err %.2e, noise floor %.2e", info(oc->kind).title,
                          static_cast<long long>(oc->checked), oc->max_abs_err, oc->noise_floor);
      ImGui::PopFont();
    } else {
      ImGui::TextDisabled("· not run");
    }
    ImGui::SameLine();
    const bool checking = c.analysis().op_busy() && c.analysis().op_requested() && c.analysis().op_requested()->op == k;
    ImGui::BeginDisabled(checking);
    if (ImGui::SmallButton(checking ? "checking …" : "check this op"))
      ctx.requests.push(req::CheckOp{k, c.check_options()});  // off the UI thread
    ImGui::EndDisabled();
    if (op.mistake != Mistake::none)
      colored_text(ctx.palette.warn, "⚑ planted mistake in this op's backward: %s — %s", info(op.mistake).name,
                   info(op.mistake).description);
    if (c.at_start()) colored_text(ctx.palette.dim, "the next op: nothing computed yet — step forward (→) to run it");
  }

  // The op's three formulas; the one of the current half stands out.
  template <class T>
  void formulas(PanelContext& ctx, const Op<T>& op, int lit) {
    const OpTypeInfo& ti = info(op.type);
    const char* names[] = {"forward", "local derivative", "backward"};
    const char* text[] = {ti.forward, ti.local, ti.backward};
    const ImU32 lit_col = lit == 2 ? ctx.palette.backward : ctx.palette.forward;
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
    }
    ImGui::EndTable();
  }

  // [SECTION] forward half: inputs, parameters, output
  template <class T>
  void forward_row(const Controller& c, PanelContext& ctx, const Tape<T>& tape, int k) {
    const Op<T>& op = tape.op(k);
    const auto& params = tape.model().params();
    // One column per input (each input its own map), one for the parameters, one for the output.
    const int n_in = std::max<int>(1, static_cast<int>(op.in.size()));
    const int ncol = n_in + (op.par.empty() ? 0 : 1) + 1;
    if (!begin_row(ncol)) return;
    if (op.in.empty()) ImGui::TableSetupColumn("input");
    for (size_t i = 0; i < op.in.size(); ++i)
      ImGui::TableSetupColumn(op.in.size() == 1 ? "input" : ("input " + std::to_string(i)).c_str());
    if (!op.par.empty()) ImGui::TableSetupColumn("parameters");
    ImGui::TableSetupColumn("output");
    ImGui::TableHeadersRow();
    ImGui::TableNextRow();
    if (op.in.empty()) ImGui::TableNextColumn();
    for (size_t i = 0; i < op.in.size(); ++i) {
      ImGui::TableNextColumn();
      const Value<T>& v = tape.value(op.in[i]);
      const std::string name = label_of(c, v);
      if (v.integer) {
        ids_view(c, ctx, tape, v);
        continue;
      }
      if (v.producer < 0 || c.forward_done(v.producer))
        tensor_view(c, ctx, name, TensorRef::of(v.data), ColorMode::sequential, c.version(), tall(Tokens::positions));
      else
        not_computed(ctx, name, v.data.shape);
    }
    if (!op.par.empty()) {
      ImGui::TableNextColumn();
      for (int p : op.par) {
        const Param<T>& prm = params[p];
        TensorViewOptions o;
        o.tokens = tokens_of(prm);
        tensor_view(c, ctx, prm.name + (prm.trainable ? "" : "  (frozen)"), TensorRef::of(prm.data),
                    ColorMode::sequential, c.version(), o);
        ImGui::Spacing();
      }
    }
    ImGui::TableNextColumn();
    const Value<T>& out = tape.value(op.out);
    const std::string out_name = c.session().value_label(k);
    if (c.forward_done(k))
      tensor_view(c, ctx, out_name, TensorRef::of(out.data), ColorMode::sequential, c.version(), tall(Tokens::positions));
    else
      not_computed(ctx, out_name, out.data.shape);
    ImGui::EndTable();
  }

  // [SECTION] backward half: op | local derivative | incoming | outgoing | parameter gradient
  template <class T>
  void backward_row(const Controller& c, PanelContext& ctx, const Tape<T>& tape, int k) {
    const Op<T>& op = tape.op(k);
    const auto& params = tape.model().params();
    const int ncol = op.par.empty() ? 4 : 5;
    if (!begin_row(ncol)) return;
    ImGui::TableSetupColumn("op (output)");
    ImGui::TableSetupColumn("local derivative");
    ImGui::TableSetupColumn("incoming ∂L/∂out");
    ImGui::TableSetupColumn("outgoing ∂L/∂in");
    if (!op.par.empty()) ImGui::TableSetupColumn("parameter gradient");
    ImGui::TableHeadersRow();
    ImGui::TableNextRow();

    // op output
    ImGui::TableNextColumn();
    const Value<T>& out = tape.value(op.out);
    TensorViewOptions marked = tall(Tokens::positions);
    if (has_row_jacobian(op.type)) marked.mark_row = row_of(c, tape, k);
    tensor_view(c, ctx, c.session().value_label(k), TensorRef::of(out.data), ColorMode::sequential, c.version(), marked);

    // local derivative
    ImGui::TableNextColumn();
    const int row = row_of(c, tape, k);
    if (has_row_jacobian(op.type) && !op.in.empty()) {
      const Value<T>& x = tape.value(op.in[0]);
      const int rows = static_cast<int>(x.data.rows());
      ImGui::SetNextItemWidth(std::max(80.0f, ImGui::GetContentRegionAvail().x * 0.55f));
      int r = row;
      if (ImGui::SliderInt("row", &r, 0, rows - 1)) ctx.requests.push(req::SelectRow{r});
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("which row's Jacobian to show (outlined in the maps)");
      Shape lead(x.data.shape.begin(), x.data.shape.end() - 1);
      ImGui::SameLine();
      ImGui::PushFont(ctx.fonts.mono);
      ImGui::TextDisabled("%s", multi_index_str(lead, row).c_str());
      ImGui::PopFont();
    }
    const LocalDerivative<T>& ld = local(c, tape, k, row);
    const uint64_t serial = cache<T>().serial;
    for (const auto& it : ld.items) {
      tensor_view(c, ctx, it.label, TensorRef::of(it.tensor, it.transposed), ColorMode::diverging, serial);
      ImGui::Spacing();
    }

    // incoming residual
    ImGui::TableNextColumn();
    // ∂L/∂ of the op's output: for an op named after a parameter (wpe), its value's own name (h),
    // so it does not read like the parameter's gradient (∂L/∂wpe.weight, in the last column).
    const std::string in_cap = "∂L/∂" + c.session().value_label(k);
    if (out.grad.empty())
      ImGui::TextWrapped("%s: no gradient needed (nothing trainable upstream)", in_cap.c_str());
    else if (c.incoming_ready(k))
      tensor_view(c, ctx, in_cap + (out.uses.size() > 1 ? "  (Σ of " + std::to_string(out.uses.size()) + " shares)" : ""),
                  TensorRef::of(out.grad), ColorMode::diverging, c.version(), marked);
    else
      not_computed(ctx, in_cap, out.data.shape);

    // outgoing residuals, one per input
    ImGui::TableNextColumn();
    if (op.in.empty()) ImGui::TextWrapped("no input");
    for (size_t i = 0; i < op.in.size(); ++i) {
      const Value<T>& v = tape.value(op.in[i]);
      std::string cap = "∂L/∂" + label_of(c, v);
      if (v.uses.size() > 1) cap += "  (this op's share)";
      if (v.integer)
        ImGui::TextWrapped("%s: ids, whole numbers: nothing to differentiate", label_of(c, v).c_str());
      else if (op.din[i].empty() && v.producer < 0)
        ImGui::TextWrapped("%s: data (the input given), no gradient needed", cap.c_str());
      else if (op.din[i].empty())
        ImGui::TextWrapped("%s: not needed (nothing trainable upstream)", cap.c_str());
      else if (c.backward_done(k))
        tensor_view(c, ctx, cap, TensorRef::of(op.din[i]), ColorMode::diverging, c.version(),
                    op.in.size() > 1 ? tall(Tokens::positions, 0) : marked);
      else
        not_computed(ctx, cap, v.data.shape);
      ImGui::Spacing();
    }

    // parameter gradients
    if (!op.par.empty()) {
      ImGui::TableNextColumn();
      for (size_t j = 0; j < op.par.size(); ++j) {
        const Param<T>& prm = params[op.par[j]];
        std::string cap = "∂L/∂" + prm.name;
        if (op.dpar[j].empty()) {
          ImGui::TextWrapped("%s", cap.c_str());
          ImGui::PushStyleColor(ImGuiCol_Text, ctx.palette.warn);
          ImGui::TextWrapped("frozen: no gradient computed or applied");
          ImGui::PopStyleColor();
        } else {
          if (op.dpar[j].data != prm.grad.data) cap += "  (this op's share)";
          TensorViewOptions o;
          o.tokens = tokens_of(prm);
          if (c.backward_done(k))
            tensor_view(c, ctx, cap, TensorRef::of(op.dpar[j]), ColorMode::diverging, c.version(), o);
          else
            not_computed(ctx, cap, prm.data.shape);
        }
        ImGui::Spacing();
      }
    }
    ImGui::EndTable();
  }

  using Tokens = TensorViewOptions::Tokens;
  TensorViewOptions tall(Tokens tokens = Tokens::none, float max_height = -1) const {
    TensorViewOptions o;
    o.max_height = max_height < 0 ? map_h_ : max_height;
    o.tokens = tokens;
    return o;
  }

  // A parameter whose rows are the tokens of the vocabulary (wte, axes V × C): hovering one names it.
  template <class T>
  static Tokens tokens_of(const Param<T>& p) {
    return !p.axes.empty() && p.axes[0] == "V" ? Tokens::vocab : Tokens::none;
  }

  // A value on the tape by the name of what it is (format.h's value_label); an input by its name.
  template <class T>
  static std::string label_of(const Controller& c, const Value<T>& v) {
    return v.producer >= 0 ? c.session().value_label(v.producer) : v.name + " (input)";
  }

  // An input of ids (GPT-2's tokens and targets, softmax_ce's class ids): the ids, as text where
  // the model has a vocabulary.
  template <class T>
  static void ids_view(const Controller& c, PanelContext& ctx, const Tape<T>& tape, const Value<T>& v) {
    const bool tokens = v.name == "tokens" || v.name == "targets";
    ImGui::TextWrapped("%s: %s", v.name.c_str(),
                       tokens ? (v.name == "tokens" ? "the token ids x, read as rows of wte (not differentiated)"
                                                    : "the next-token targets y (not differentiated)")
                              : "class ids, whole numbers (not differentiated)");
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
    ImGui::PushFont(ctx.fonts.mono);
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("%s = %s", tokens ? (v.name == "tokens" ? "x[0]" : "y[0]") : v.name.c_str(), line.c_str());
    ImGui::PopTextWrapPos();
    ImGui::PopFont();
  }

  bool begin_row(int ncol) {
    return ImGui::BeginTable("row", ncol,
                             ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_BordersOuter | ImGuiTableFlags_Resizable |
                                 ImGuiTableFlags_SizingStretchSame | ImGuiTableFlags_NoSavedSettings);
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

  template <class T>
  void shares(const Controller& c, PanelContext& ctx, const Tape<T>& tape, int k) {
    collect_shares(c, tape, k);
    if (sums_.empty()) return;
    ImGui::Separator();
    ImGui::TextUnformatted("Used more than once: the gradient is the sum of one share per use");
    for (const ShareSum& s : sums_) {
      ImGui::PushID((s.role + s.what).c_str());
      ImGui::Bullet();
      ImGui::Text("%s  ∂L/∂%s = Σ of %zu shares", s.role.c_str(), s.what.c_str(), s.parts.size());
      const bool total_ready = s.value >= 0 ? c.value_grad_ready(s.value) : c.param_grad_ready(s.param);
      if (ImGui::BeginTable("shares", 3,
                            ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_NoSavedSettings)) {
        ImGui::TableSetupColumn("share from", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 16);
        ImGui::TableSetupColumn("‖share‖", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 9);
        ImGui::TableSetupColumn("", ImGuiTableColumnFlags_WidthStretch);
        ImGui::TableHeadersRow();
        for (const SharePart& sh : s.parts) {
          const bool ready = c.backward_done(sh.op);
          ImGui::TableNextRow();
          ImGui::TableNextColumn();
          if (sh.op == k)
            colored_text(ctx.palette.backward, "%s (this op)", sh.user.c_str());
          else
            ImGui::TextUnformatted(sh.user.c_str());
          ImGui::TableNextColumn();
          ImGui::PushFont(ctx.fonts.mono);
          if (ready)
            ImGui::TextUnformatted(num_short(sh.norm).c_str());
          else
            ImGui::TextDisabled("—");
          ImGui::PopFont();
          ImGui::TableNextColumn();
          if (!ready) ImGui::TextDisabled("not computed yet");
        }
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextUnformatted("= the gradient");
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
          colored_text(s.diff <= 1e-6 * (1 + s.total_norm) ? ctx.palette.ok : ctx.palette.bad,
                       "max |Σ shares − gradient| = %.1e", s.diff);
          ImGui::PopFont();
        } else {
          ImGui::TextDisabled("complete once every share is computed");
        }
        ImGui::EndTable();
      }
      ImGui::PopID();
    }
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

  float map_h_ = 260.0f;
  LdCache<float> ld_f_;
  LdCache<double> ld_d_;
  uint64_t shares_version_ = ~uint64_t{0};
  int shares_op_ = -1;
  std::vector<ShareSum> sums_;
  uint64_t serial_ = uint64_t{1} << 40;  // apart from the controller's small version numbers
};

}  // namespace

std::unique_ptr<Panel> make_inspector_panel() { return std::make_unique<InspectorPanel>(); }

}  // namespace gs::app
