"use strict";
// The charts of CKA, training and the size sweep, drawn with the Vega beside the page. Each view's
// function returns its charts' promises.

function drawCkaCharts() {
  const jobs = [];
  const cka = D.charts.cka || [];
  const pairs = [...new Set(cka.map((row) => row.model))];
  for (const pair of pairs) {
    const rows = cka.filter((row) => row.model === pair);
    const [a, b] = pair.split(D.keys.pair);
    jobs.push(chart($("cka-charts"), { title: pair, width: WIDTH(), height: WIDTH(), data: { values: rows }, mark: "rect",
      encoding: { x: { field: "layer_b", type: "ordinal", sort: D.cards[b].layers, title: b },
        y: { field: "layer_a", type: "ordinal", sort: D.cards[a].layers, title: a },
        color: { field: "cka", type: "quantitative", scale: { domain: [0, 1], scheme: "viridis" } },
        tooltip: [{ field: "layer_a" }, { field: "layer_b" }, { field: "cka", format: ".3f" }] } }, `cka ${pair}`));
  }
  if (!pairs.length) empty($("cka-charts"), "CKA compares two models; this run has one.");
  return jobs;
}

function drawTrainingCharts() {
  const jobs = [];
  const curves = D.charts.training || [];
  for (const [measure, title] of [["accuracy", "accuracy"], ["loss", "loss"]]) {
    jobs.push(chart($("training-charts"), { title: `${title} by epoch (seed ${D.seed}; dashed: validation)`, width: WIDTH(), height: 200,
      data: { values: curves }, transform: [{ fold: [measure, `val_${measure}`], as: ["split", "value"] }],
      mark: { type: "line", point: true }, encoding: { x: { field: "epoch", type: "quantitative" },
        y: { field: "value", type: "quantitative", title, scale: { zero: false } }, color: { field: "model", type: "nominal" },
        strokeDash: { field: "split", type: "nominal", legend: null }, tooltip: [{ field: "model" }, { field: "epoch" }, { field: "split" }, { field: "value", format: ".4f" }] } },
    `training ${measure}`));
  }
  return jobs;
}

function drawSweepCharts() {
  const jobs = [];
  const sweep = D.charts.by_size || [];
  if (sweep.length > 1) {
    for (const measure of ["test_accuracy", "last_hidden_entropy_bits", "last_hidden_zero_fraction", "last_hidden_mean", "softmax_entropy_bits"]) {
      jobs.push(chart($("sweep-charts"), { title: measure.replaceAll("_", " "), width: WIDTH(), height: 180, data: { values: sweep },
        layer: [{ mark: { type: "line", point: true }, encoding: { x: { field: "train_size", type: "quantitative", scale: { type: "log" }, title: "training images" },
          y: { field: measure, type: "quantitative", scale: { zero: false } }, tooltip: [{ field: "model" }, { field: "train_size" }, { field: measure, format: ".4f" }] } },
        { mark: { type: "errorbar" }, transform: [{ calculate: `datum.${measure} - datum.${measure}${D.keys.seed_sd}`, as: "low" }, { calculate: `datum.${measure} + datum.${measure}${D.keys.seed_sd}`, as: "high" }],
          encoding: { x: { field: "train_size", type: "quantitative" }, y: { field: "low", type: "quantitative" }, y2: { field: "high" } } }] }, `sweep ${measure}`));
    }
    jobs.push(chart($("sweep-charts"), { title: "CKA with the largest model, by layer", width: WIDTH(), height: 180, data: { values: D.charts.cka_to_largest || [] },
      mark: { type: "line", point: true }, encoding: { x: { field: "train_size", type: "quantitative", scale: { type: "log" }, title: "training images" },
        y: { field: "cka_to_largest", type: "quantitative" }, color: { field: "layer", type: "nominal", sort: null }, tooltip: [{ field: "layer" }, { field: "model" }, { field: "cka_to_largest", format: ".3f" }] } }, "sweep cka"));
  } else empty($("sweep-charts"), "The size sweep needs two or more models trained here.");
  return jobs;
}
