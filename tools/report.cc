// JSON report and SVG plot (report.h).
#include "tools/report.h"

#include <math.h>
#include <string.h>

#include <algorithm>

#include "ract/core/atomic_file.h"

void ract_json_number(FILE* f, double v) {
  if (isfinite(v)) {
    fprintf(f, "%.6g", v);
  } else {
    fputs("null", f);
  }
}

void ract_json_string(FILE* f, const char* s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      fprintf(f, "\\%c", c);
    } else if (c < 0x20) {
      fprintf(f, "\\u%04x", c);
    } else {
      fputc(c, f);
    }
  }
  fputc('"', f);
}

namespace {

void metrics_json(FILE* f, const ract_metrics* m) {
  if (m == nullptr || m->users == 0) {
    fputs("{}", f);
    return;
  }
  ract_metrics_write_json(f, m);
}

// One panel of the SVG: a line chart of y over x (or a scatter), with axes and labels.
struct Panel {
  double x, y, w, h;      // placement
  double x0, x1, y0, y1;  // data range
};

double px(const Panel& p, double v) { return p.x + 58 + (v - p.x0) / (p.x1 - p.x0) * (p.w - 78); }
double py(const Panel& p, double v) {
  return p.y + p.h - 35 - (v - p.y0) / (p.y1 - p.y0) * (p.h - 65);
}

void range(const double* v, int n, double* lo, double* hi) {
  *lo = INFINITY;
  *hi = -INFINITY;
  for (int i = 0; i < n; i++) {
    if (!isfinite(v[i])) continue;
    *lo = std::min(*lo, v[i]);
    *hi = std::max(*hi, v[i]);
  }
  if (!isfinite(*lo)) {
    *lo = 0;
    *hi = 1;
  }
  if (*hi - *lo < 1e-12) {  // a flat line: a small band around it
    double d = fmax(fabs(*lo) * 0.05, 1e-3);
    *lo -= d;
    *hi += d;
  }
  double pad = 0.05 * (*hi - *lo);
  *lo -= pad;
  *hi += pad;
}

void axes(FILE* f, const Panel& p, const char* title, const char* xlabel, const char* ylabel) {
  fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='white' stroke='#ccc'/>\n",
          p.x, p.y, p.w, p.h);
  fprintf(f, "<text x='%.1f' y='%.1f' font-size='13' font-weight='bold'>", p.x + 50, p.y + 18);
  fputs(title, f);
  fputs("</text>\n", f);
  double ax0 = px(p, p.x0), ax1 = px(p, p.x1), ay0 = py(p, p.y0), ay1 = py(p, p.y1);
  fprintf(f, "<path d='M%.1f %.1f L%.1f %.1f L%.1f %.1f' fill='none' stroke='#333'/>\n", ax0, ay1,
          ax0, ay0, ax1, ay0);
  // Ticks at round numbers: steps of 1, 2 or 5 times a power of ten, about 5 per axis.
  for (int axis = 0; axis < 2; axis++) {
    double lo = axis ? p.y0 : p.x0, hi = axis ? p.y1 : p.x1;
    double raw = (hi - lo) / 5, mag = pow(10, floor(log10(raw))), step = mag;
    if (raw / mag > 5) {
      step = 10 * mag;
    } else if (raw / mag > 2) {
      step = 5 * mag;
    } else if (raw / mag > 1) {
      step = 2 * mag;
    }
    for (double v = ceil(lo / step) * step; v <= hi; v += step) {
      double tv = fabs(v) < step * 1e-6 ? 0 : v;
      if (axis) {
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='10' text-anchor='end'>%.4g</text>\n",
                ax0 - 4, py(p, tv) + 3, tv);
      } else {
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='10' text-anchor='middle'>%.4g</text>\n",
                px(p, tv), ay0 + 14, tv);
      }
    }
  }
  fprintf(f, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle'>%s</text>\n",
          (ax0 + ax1) / 2, p.y + p.h - 6, xlabel);
  fprintf(f,
          "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle' "
          "transform='rotate(-90 %.1f %.1f)'>%s</text>\n",
          p.x + 10, (ay0 + ay1) / 2, p.x + 10, (ay0 + ay1) / 2, ylabel);
}

void line(FILE* f, const Panel& p, const double* x, const double* y, int n, const char* color) {
  fputs("<polyline fill='none' stroke-width='1.5' stroke='", f);
  fputs(color, f);
  fputs("' points='", f);
  for (int i = 0; i < n; i++) {
    if (isfinite(y[i])) fprintf(f, "%.1f,%.1f ", px(p, x[i]), py(p, y[i]));
  }
  fputs("'/>\n", f);
}

}  // namespace

void ract_report_data_json(FILE* f, const ract_dataset* ds) {
  fputs("{\"name\": ", f);
  ract_json_string(f, ds->name);
  fprintf(f,
          ", \"split\": \"%s\", \"users\": %d, \"items\": %d, \"train_users\": %d, "
          "\"train\": %lld, \"valid_users\": %d, \"valid\": %lld, \"test_users\": %d, "
          "\"test\": %lld}",
          ract_split_kind_name(ds->split), ds->n_users, ds->n_items, ds->train.rows,
          (long long)ract_dataset_train_nnz(ds), ds->valid.rows, (long long)ds->counts.valid_pairs,
          ds->test.rows, (long long)ds->counts.test_pairs);
}

ract_status ract_report_write(const char* path, const ract_run_report* r, ract_error* err) {
  ract_atomic_file af;
  RACT_CHECK(ract_atomic_open(&af, path, err));
  FILE* f = af.f;
  const ract_trainer* t = r->trainer;
  fputs("{\n  \"preset\": ", f);
  ract_json_string(f, t->cfg.preset);
  fprintf(f, ",\n  \"seed\": %llu,\n  \"threads\": %d,\n  \"valid_metric\": ",
          (unsigned long long)t->cfg.seed, t->cfg.threads);
  ract_json_string(f, t->cfg.valid_metric);
  fputs(",\n  \"data\": ", f);
  ract_report_data_json(f, t->data);
  fputs(",\n  \"stages\": [", f);
  int first = 1;
  for (int s = 0; s < RACT_STAGES; s++) {
    const ract_stage_summary* st = &t->stage[s];
    if (!st->ran) continue;
    fprintf(f, "%s\n    {\"name\": \"%s\", \"epochs\": %d, \"seconds\": ", first ? "" : ",",
            ract_stage_name((ract_stage)s), st->epochs);
    ract_json_number(f, st->seconds);
    fputs(", \"seconds_per_epoch\": ", f);
    ract_json_number(f, st->epochs > 0 ? st->seconds / st->epochs : NAN);
    fprintf(f, ", \"best_epoch\": %d, \"best_valid\": ", st->best_epoch);
    metrics_json(f, &st->best_valid);
    fputs(", \"test\": ", f);
    metrics_json(f, &st->test);
    fputc('}', f);
    first = 0;
  }
  fputs("\n  ],\n  \"critic\": {\"corr\": ", f);
  ract_json_number(f, r->critic->corr);
  fprintf(f, ", \"pairs\": %lld, \"mean_q\": ", (long long)r->critic->pairs);
  ract_json_number(f, r->critic->mean_q);
  fputs(", \"mean_target\": ", f);
  ract_json_number(f, r->critic->mean_target);
  const ract_stage_summary* a = &t->stage[RACT_STAGE_ACTOR_PRETRAIN];
  const ract_stage_summary* ft = &t->stage[RACT_STAGE_FINETUNE];
  const double va =
      a->best_valid.users > 0 ? ract_metrics_get(&a->best_valid, t->cfg.valid_metric) : NAN;
  const double vf =
      ft->best_valid.users > 0 ? ract_metrics_get(&ft->best_valid, t->cfg.valid_metric) : NAN;
  fputs("},\n  \"verdict\": {\"metric\": ", f);
  ract_json_string(f, t->cfg.valid_metric);
  fputs(", \"actor_valid\": ", f);
  ract_json_number(f, va);
  fputs(", \"finetune_valid\": ", f);
  ract_json_number(f, vf);
  fputs(", \"gain\": ", f);
  ract_json_number(f, vf - va);
  fputs("},\n  \"valid\": ", f);
  metrics_json(f, r->valid);
  fputs(",\n  \"test\": ", f);
  metrics_json(f, r->test);
  fputs("\n}\n", f);
  return ract_atomic_commit(&af, err);
}

ract_status ract_report_write_eval(const char* path, const char* model, const ract_dataset* ds,
                                   const ract_metrics* valid, const ract_metrics* test,
                                   ract_error* err) {
  ract_atomic_file af;
  RACT_CHECK(ract_atomic_open(&af, path, err));
  FILE* f = af.f;
  fputs("{\n  \"model\": ", f);
  ract_json_string(f, model);
  fputs(",\n  \"data\": ", f);
  ract_report_data_json(f, ds);
  fputs(",\n  \"valid\": ", f);
  metrics_json(f, valid);
  fputs(",\n  \"test\": ", f);
  metrics_json(f, test);
  fputs("\n}\n", f);
  return ract_atomic_commit(&af, err);
}

ract_status ract_plot_write(const char* path, const ract_trainer* t, const float* q,
                            const float* target, int n, double corr, ract_error* err) {
  // One row per stage that ran: loss (left) and validation metric (right); then the critic.
  int stages[RACT_STAGES], n_stages = 0;
  for (int s = 0; s < RACT_STAGES; s++) {
    if (t->stage[s].ran) stages[n_stages++] = s;
  }
  const double W = 900, H = 260;
  const int rows = n_stages + (n > 0 ? 1 : 0);
  ract_atomic_file af;
  RACT_CHECK(ract_atomic_open(&af, path, err));
  FILE* f = af.f;
  fprintf(f,
          "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
          "font-family='sans-serif'>\n<rect width='100%%' height='100%%' fill='#f7f7f7'/>\n",
          W, H * rows + 10);
  double* xs = new double[t->n_log + 1];
  double* ys = new double[t->n_log + 1];
  double* vs = new double[t->n_log + 1];
  for (int r = 0; r < n_stages; r++) {
    int s = stages[r];
    int m = 0;
    for (int i = 0; i < t->n_log; i++) {
      if (t->log[i].stage != s) continue;
      xs[m] = t->log[i].epoch + 1;
      ys[m] = t->log[i].loss;
      vs[m] = t->log[i].valid;
      m++;
    }
    char title[128];
    Panel p = {5, 5 + r * H, W / 2 - 10, H - 10, 0, 1, 0, 1};
    range(xs, m, &p.x0, &p.x1);
    range(ys, m, &p.y0, &p.y1);
    snprintf(title, sizeof(title), "%s: training loss", ract_stage_name((ract_stage)s));
    axes(f, p, title, "epoch", "loss");
    line(f, p, xs, ys, m, "#1f77b4");
    // Right: the validation metric where the stage evaluates; otherwise what the stage
    // optimises beside its loss (the critic's mean Q against its mean target, or the KL).
    int any = 0;
    for (int i = 0; i < m; i++) any |= isfinite(vs[i]);
    Panel v = {W / 2 + 5, 5 + r * H, W / 2 - 10, H - 10, p.x0, p.x1, 0, 1};
    if (any) {
      range(vs, m, &v.y0, &v.y1);
      snprintf(title, sizeof(title), "%s: validation %s", ract_stage_name((ract_stage)s),
               t->cfg.valid_metric);
      axes(f, v, title, "epoch", t->cfg.valid_metric);
      line(f, v, xs, vs, m, "#d62728");
    } else {
      int k = 0;
      for (int i = 0; i < t->n_log; i++) {
        if (t->log[i].stage != s) continue;
        ys[k] = s == RACT_STAGE_ACTOR_PRETRAIN ? t->log[i].kl : t->log[i].q;
        vs[k] = t->log[i].target;
        k++;
      }
      double lo, hi;
      range(ys, m, &v.y0, &v.y1);
      if (s != RACT_STAGE_ACTOR_PRETRAIN) {
        range(vs, m, &lo, &hi);
        v.y0 = std::min(v.y0, lo);
        v.y1 = std::max(v.y1, hi);
      }
      if (s == RACT_STAGE_ACTOR_PRETRAIN) {
        snprintf(title, sizeof(title), "%s: KL (no validation in this stage)",
                 ract_stage_name((ract_stage)s));
        axes(f, v, title, "epoch", "KL");
        line(f, v, xs, ys, m, "#9467bd");
      } else {
        snprintf(title, sizeof(title), "%s: mean Q (green) vs mean NDCG target (red)",
                 ract_stage_name((ract_stage)s));
        axes(f, v, title, "epoch", "NDCG");
        line(f, v, xs, ys, m, "#2ca02c");
        line(f, v, xs, vs, m, "#d62728");
      }
    }
  }
  if (n > 0) {
    Panel p = {5, 5 + n_stages * H, W / 2 - 10, H - 10, 0, 1, 0, 1};
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {
      lo = std::min({lo, (double)q[i], (double)target[i]});
      hi = std::max({hi, (double)q[i], (double)target[i]});
    }
    if (!(hi > lo)) hi = lo + 1;
    p.x0 = p.y0 = lo - 0.02;
    p.x1 = p.y1 = hi + 0.02;
    char title[160];
    snprintf(title, sizeof(title), "critic on %d (user, draw) pairs: corr %.3f", n, corr);
    axes(f, p, title, "true NDCG@k of the actor", "critic's predicted Q");
    fprintf(f,
            "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#999' "
            "stroke-dasharray='4'/>\n",
            px(p, p.x0), py(p, p.y0), px(p, p.x1), py(p, p.y1));
    for (int i = 0; i < n; i++) {
      fprintf(f, "<circle cx='%.1f' cy='%.1f' r='1.6' fill='#2ca02c' fill-opacity='0.5'/>\n",
              px(p, target[i]), py(p, q[i]));
    }
  }
  delete[] xs;
  delete[] ys;
  delete[] vs;
  fputs("</svg>\n", f);
  return ract_atomic_commit(&af, err);
}
