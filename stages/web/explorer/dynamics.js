"use strict";
// Over training: the replayed checkpoints' charts, and the epoch slider with the measures of the
// selected layer at that epoch.

function drawDynamicsCharts() {
  const jobs = [];
  const measures = D.charts.measures || [];
  if (measures.length) {
    const mark = { mark: { type: "point", size: 120, filled: true, color: "#d62728" }, transform: [{ filter: "datum.epoch == epoch" }] };
    for (const measure of [...new Set(measures.map((row) => row.measure))]) {
      const rows = measures.filter((row) => row.measure === measure);
      const encoding = { x: { field: "epoch", type: "quantitative" }, y: { field: "value", type: "quantitative", title: measure, scale: { zero: false } },
        color: { field: "model", type: "nominal" }, detail: { field: "seed", type: "nominal" }, tooltip: [{ field: "model" }, { field: "seed" }, { field: "epoch" }, { field: "value", format: ".4f" }] };
      jobs.push(chart($("dynamics-charts"), { title: measure, width: WIDTH(), height: 170, params: [{ name: "epoch", value: state.epoch ?? 0 }],
        data: { values: rows }, layer: [{ mark: { type: "line", point: true }, encoding }, { ...mark, encoding }] }, `dynamics ${measure}`));
    }
    const plane = D.charts.plane || [];
    const encoding = { x: { field: "probe_accuracy", type: "quantitative", scale: { zero: false } }, y: { field: "last_hidden_entropy_bits", type: "quantitative", scale: { zero: false } },
      color: { field: "model", type: "nominal" }, order: { field: "epoch" }, tooltip: [{ field: "model" }, { field: "epoch" }, { field: "probe_accuracy" }, { field: "last_hidden_entropy_bits" }] };
    jobs.push(chart($("dynamics-charts"), { title: "information plane", width: WIDTH(), height: 200, params: [{ name: "epoch", value: state.epoch ?? 0 }],
      data: { values: plane }, layer: [{ mark: { type: "line", point: true }, encoding }, { ...mark, encoding }] }, "dynamics plane"));
    const toBest = D.charts.cka_to_best || [];
    for (const model of D.models.filter((m) => toBest.some((row) => row.model === m))) {
      const enc = { x: { field: "epoch", type: "quantitative" }, y: { field: "cka_to_best", type: "quantitative" }, color: { field: "layer", type: "nominal", sort: D.cards[model].layers },
        detail: { field: "seed", type: "nominal" }, tooltip: [{ field: "layer" }, { field: "epoch" }, { field: "cka_to_best", format: ".3f" }] };
      jobs.push(chart($("dynamics-charts"), { title: `${model}: CKA of each layer with its best epoch`, width: WIDTH(), height: 200, params: [{ name: "epoch", value: state.epoch ?? 0 }],
        data: { values: toBest.filter((row) => row.model === model) }, layer: [{ mark: { type: "line", point: true }, encoding: enc }, { ...mark, encoding: enc }] }, `dynamics cka ${model}`));
    }
  } else empty($("dynamics-charts"), "No checkpoints were replayed.");
  return jobs;
}

// The epoch slider: the replayed checkpoints' measures of the selected layer, and a mark on every chart.
const replayed = [...new Set(Object.values(D.epochs).flatMap((runs) => runs.map((e) => e.epoch)))].sort((a, b) => a - b);

function buildEpochs() {
  if (!replayed.length) {
    $("epoch-control").hidden = true;
    return;
  }
  const runs = Object.values(D.epochs).filter((epochs) => epochs.length);
  const shared = replayed.filter((epoch) => runs.every((epochs) => epochs.some((e) => e.epoch === epoch)));
  state.epoch = shared.length ? shared[shared.length - 1] : replayed[replayed.length - 1];  // the last every model has
  const slider = $("epoch");
  slider.max = String(replayed.length - 1);
  slider.value = String(replayed.indexOf(state.epoch));
  slider.addEventListener("input", () => {
    state.epoch = replayed[Number(slider.value)];
    drawEpochTable();
    for (const [, view] of views) if (view.getState().signals && "epoch" in view.getState().signals) view.signal("epoch", state.epoch).runAsync();
  });
  drawEpochTable();
}

function drawEpochTable() {
  const epoch = state.epoch, layer = state.layer;
  $("epoch-number").textContent = `${epoch}`;
  const head = el("tr", {}, el("th", {}, `${layer} at epoch ${epoch}`));
  const subjects = D.images.filter((entry) => !entry.probe).map((entry) => entry.name);
  for (const model of D.models) {
    const found = (D.epochs[model] || []).find((e) => e.epoch === epoch);
    const tags = found ? [found.epoch === D.best[model] ? "best" : "", found.epoch === D.last[model] ? "last" : ""].filter(Boolean).join(", ") : "";
    head.append(el("th", {}, `${model}: probe mean${tags ? ` (${tags})` : ""}`), ...subjects.map((name) => el("th", {}, `${model}: ${name}`)));
  }
  const rows = [head];
  const OUT = D.keys.output, prefix = `${OUT}: `;
  for (const measure of [...D.layer_measures, ...D.output_measures.map((m) => prefix + m)]) {
    const row = el("tr", {}, el("td", {}, measure));
    for (const model of D.models) {
      const found = (D.epochs[model] || []).find((e) => e.epoch === epoch);
      const pick = (part) => (!found ? "not replayed" : measure.startsWith(prefix) ? part[OUT][measure.slice(prefix.length)] : (part.layers[layer] || {})[measure]);
      row.append(el("td", {}, fmt(found ? pick(found) ?? null : "not replayed")),
        ...subjects.map((name) => el("td", {}, fmt(found && found.subjects[name] ? pick(found.subjects[name]) ?? null : "—"))));
    }
    rows.push(row);
  }
  $("epoch-table").replaceChildren(...rows);
}
