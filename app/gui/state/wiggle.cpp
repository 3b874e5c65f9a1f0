#include "wiggle.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "gradscope/error.h"
#include "gradscope/gradcheck.h"

namespace gs::app {

namespace {

template <class T>
int64_t count_params(const Session<T>& s) {
  return s.model->n_params();
}

template <class T>
Param<T>& find_param(Session<T>& s, const std::string& name) {
  const int p = s.model->find(name);
  if (p < 0) throw Error("no parameter '" + name + "'");
  return s.model->params()[p];
}

// The loss with one entry set to v (the copy's forward only).
template <class T>
double loss_at(Session<T>& s, Param<T>& p, int64_t i, double v) {
  p.data[i] = static_cast<T>(v);
  s.tape->forward();
  return s.tape->loss();
}

template <class T>
void too_big(const Session<T>& s) {
  if (count_params(s) > kMaxViewParams)
    throw Error("this view works on a copy of the model; " + std::to_string(count_params(s)) +
                " parameters are more than it copies (up to " + std::to_string(kMaxViewParams) + ")");
}

}  // namespace

WiggleCurve wiggle_curve(const AnySession& live, const std::string& param, int64_t index, double half_width,
                         int points) {
  WiggleCurve w;
  w.param = param;
  w.index = index;
  if (!live) {
    w.error = "no model";
    return w;
  }
  try {
    live.visit([&](const auto& s) {
      using T = std::decay_t<decltype(*s.model->params()[0].data.data)>;
      too_big(s);
      const int pi = s.model->find(param);
      if (pi < 0) throw Error("no parameter '" + param + "'");
      const Param<T>& lp = s.model->params()[pi];
      if (index < 0 || index >= lp.data.size()) throw Error(param + " has no entry " + std::to_string(index));
      if (lp.grad.empty()) throw Error(param + " is frozen: it has no gradient");
      w.value = static_cast<double>(lp.data[index]);
      w.analytic = static_cast<double>(lp.grad[index]);
      w.loss = s.tape->loss();
      auto copy = s.copy();
      Param<T>& p = find_param(*copy, param);
      // The wiggle differences the loss in the model's own type (what the lesson shows), not in
      // double as gs::Checker does: in f32 a step of 1e-6 would be lost in float's round-off, so
      // float takes the step and tolerance it can honestly meet (ε = 1e-3, 1e-3 + 1e-2·|n|).
      CheckOptions opt = CheckOptions::defaults(s.model->config().dtype);
      if constexpr (std::is_same_v<T, float>) {
        opt.eps = 1e-3;
        opt.atol = 1e-3;
        opt.rtol = 1e-2;
      }
      w.eps = opt.eps * std::max(1.0, std::abs(w.value));
      const double up = loss_at(*copy, p, index, w.value + w.eps), down = loss_at(*copy, p, index, w.value - w.eps);
      // Divide by the step actually taken (in float it is not exactly 2ε).
      const double step = double(static_cast<T>(w.value + w.eps)) - double(static_cast<T>(w.value - w.eps));
      w.numeric = (up - down) / step;
      w.pass = std::abs(w.analytic - w.numeric) <= opt.atol + opt.rtol * std::abs(w.numeric);
      const double hw = half_width > 0 ? half_width : std::max(2.0, 2.0 * std::abs(w.value));
      for (int k = 0; k < points; ++k) {
        const double x = w.value - hw + 2 * hw * k / std::max(1, points - 1);
        w.xs.push_back(x);
        w.ls.push_back(loss_at(*copy, p, index, x));
      }
    });
  } catch (const Error& e) {
    w.error = e.what();
  } catch (const std::bad_alloc&) {
    w.error = "out of memory copying the model";
  }
  return w;
}

LossPlane loss_plane(const AnySession& live, const std::string& px, const std::string& py, int n) {
  LossPlane pl;
  pl.px = px;
  pl.py = py;
  try {
    live.visit([&](const auto& s) {
      using T = std::decay_t<decltype(*s.model->params()[0].data.data)>;
      too_big(s);
      auto copy = s.copy();
      Param<T>& a = find_param(*copy, px);
      Param<T>& b = find_param(*copy, py);
      if (a.data.size() != 1 || b.data.size() != 1) throw Error("the loss plane takes two scalar parameters");
      pl.x = static_cast<double>(a.data[0]);
      pl.y = static_cast<double>(b.data[0]);
      const auto& la = s.model->param(px);
      const auto& lb = s.model->param(py);
      pl.gx = la.grad.empty() ? 0.0 : static_cast<double>(la.grad[0]);
      pl.gy = lb.grad.empty() ? 0.0 : static_cast<double>(lb.grad[0]);
      // Around the model, wide enough to hold the point where the loss is least for small models.
      const double hx = std::max(2.0, 2.0 * std::abs(pl.x)), hy = std::max(2.0, 2.0 * std::abs(pl.y));
      for (int k = 0; k < n; ++k) pl.xs.push_back(pl.x - hx + 2 * hx * k / (n - 1));
      for (int k = 0; k < n; ++k) pl.ys.push_back(pl.y - hy + 2 * hy * k / (n - 1));
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
          a.data[0] = static_cast<T>(pl.xs[j]);
          b.data[0] = static_cast<T>(pl.ys[i]);
          copy->tape->forward();
          pl.ls.push_back(copy->tape->loss());
        }
    });
  } catch (const Error& e) {
    pl.error = e.what();
  } catch (const std::bad_alloc&) {
    pl.error = "out of memory copying the model";
  }
  return pl;
}

namespace {

// P(target) at every row the NLL reads (GPT-2's positions, softmax_ce's examples), by label.
template <class T>
std::vector<std::pair<std::string, double>> target_probs(const Session<T>& s) {
  std::vector<std::pair<std::string, double>> out;
  const Tape<T>& tape = *s.tape;
  for (int k = 0; k < tape.size(); ++k) {
    const auto& op = tape.op(k);
    if (op.type != OpType::nll || op.in.size() != 2) continue;
    const Tensor<T>& lp = tape.value(op.in[0]).data;
    const Tensor<T>& y = tape.value(op.in[1]).data;
    const int64_t V = lp.cols();
    const bool tokens = tape.value(op.in[1]).name == "targets";
    for (int64_t m = 0; m < lp.rows() && m < 16; ++m) {
      const int32_t t = static_cast<int32_t>(y[m]);
      std::string where;
      if (tokens) {
        const int64_t T_ = std::max(1, tape.batch().T);
        where = "position " + std::to_string(m % T_) + " → '" + s.token_text(t) + "'";
      } else {
        where = "example " + std::to_string(m) + " → class " + std::to_string(t);
      }
      out.emplace_back(where, std::exp(static_cast<double>(lp[m * V + t])));
    }
  }
  return out;
}

// Rows, predicted change and target probabilities of a step from `b` to `a`.
template <class T>
void fill_step(UpdatePreview& u, const Session<T>& b, const Session<T>& a, int entries) {
  const auto& ps = b.model->params();
  const auto& qs = a.model->params();
  if (ps.size() != qs.size()) throw Error("the models before and after the step differ");
  u.predicted = 0;
  for (size_t i = 0; i < ps.size(); ++i) {
    UpdateRow r;
    r.param = ps[i].name;
    r.n = ps[i].data.size();
    r.frozen = !ps[i].trainable;
    double g2 = 0, s2 = 0;
    for (int64_t e = 0; e < r.n; ++e) {
      const double before = ps[i].data[e], after = qs[i].data[e];
      if (!ps[i].grad.empty()) {
        g2 += double(ps[i].grad[e]) * double(ps[i].grad[e]);
        u.predicted += double(ps[i].grad[e]) * (after - before);
      }
      s2 += (after - before) * (after - before);
      if (e < entries) {
        r.before.push_back(before);
        r.step.push_back(after - before);
        r.after.push_back(after);
      }
    }
    r.grad_norm = std::sqrt(g2);
    r.step_norm = std::sqrt(s2);
    u.rows.push_back(std::move(r));
  }
  const auto bp = target_probs(b), ap = target_probs(a);
  for (size_t i = 0; i < bp.size() && i < ap.size(); ++i) u.targets.push_back({bp[i].first, bp[i].second, ap[i].second});
}

}  // namespace

UpdatePreview describe_step(const AnySession& before, const AnySession& after, const OptimizerOptions& opt,
                            int entries) {
  UpdatePreview u;
  u.opt = opt;
  if (!before || !after || before.dtype() != after.dtype()) {
    u.error = "no step to show";
    return u;
  }
  try {
    before.visit([&](const auto& b) {
      using S = std::decay_t<decltype(b)>;
      const S& a = *std::get<const S*>(after.get());
      u.loss_before = b.tape->loss();
      u.loss_after = a.tape->loss();
      fill_step(u, b, a, entries);
    });
  } catch (const Error& e) {
    u.error = e.what();
  }
  return u;
}

UpdatePreview preview_update(const AnySession& live, const OptimizerOptions& opt, int step, int entries) {
  UpdatePreview u;
  u.opt = opt;
  try {
    opt.validate();
    live.visit([&](const auto& s) {
      using T = std::decay_t<decltype(*s.model->params()[0].data.data)>;
      too_big(s);
      u.loss_before = s.tape->loss();
      const SessionSnapshot<T> snap = s.snapshot(true);
      // One step at `lr` on a fresh copy: its loss after, and the first-order change g·Δθ.
      auto run = [&](double lr, std::unique_ptr<Session<T>>& out) {
        out = Session<T>::restore(snap);
        OptimizerOptions o = opt;
        o.lr = lr;
        optimizer_step(*out->model, o, step);
        out->tape->forward();
        double pred = 0;
        const auto& ps = s.model->params();
        const auto& qs = out->model->params();
        for (size_t i = 0; i < ps.size(); ++i) {
          if (ps[i].grad.empty()) continue;
          for (int64_t e = 0; e < ps[i].data.size(); ++e)
            pred += double(ps[i].grad[e]) * (double(qs[i].data[e]) - double(ps[i].data[e]));
        }
        return std::pair<double, double>{out->tape->loss(), pred};
      };
      std::unique_ptr<Session<T>> after;
      u.loss_after = run(opt.lr, after).first;
      fill_step(u, s, *after, entries);
      // Where the straight line stops predicting: the same step at smaller and larger rates.
      for (double f : {0.1, 0.3, 1.0, 3.0, 10.0, 30.0}) {
        std::unique_ptr<Session<T>> x;
        const auto [l, p] = run(opt.lr * f, x);
        u.sweep.push_back({opt.lr * f, l - u.loss_before, p});
      }
    });
  } catch (const Error& e) {
    u.error = e.what();
  } catch (const std::bad_alloc&) {
    u.error = "out of memory copying the model";
  }
  return u;
}

}  // namespace gs::app
