"use strict";
// Beside the maps: the layer's histogram, the softmax output and the image's measures against the
// probe set's.

function histogramSvg(histogram) {
  const bars = [histogram.zeros, ...histogram.counts], top = Math.max(1, ...bars);
  const width = 420, height = 110, base = 92, slot = (width - 30) / Math.max(1, histogram.counts.length);
  const svg = [`<svg viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img">`];
  const zeroHeight = (histogram.zeros / top) * (base - 4);
  svg.push(`<rect x="2" y="${base - zeroHeight}" width="18" height="${zeroHeight}" fill="#999"><title>exact zeros: ${histogram.zeros}</title></rect>`);
  histogram.counts.forEach((count, i) => {
    const h = (count / top) * (base - 4), low = (histogram.first + i * histogram.merge) * histogram.width;
    if (count) svg.push(`<rect x="${28 + i * slot}" y="${base - h}" width="${Math.max(slot - 0.5, 0.5)}" height="${h}" fill="#1f6feb"><title>[${fmt(low)}, ${fmt(low + histogram.merge * histogram.width)}): ${count}</title></rect>`);
  });
  const lowest = histogram.first * histogram.width, highest = (histogram.first + histogram.counts.length * histogram.merge) * histogram.width;
  svg.push(`<text x="2" y="106" font-size="10">0</text><text x="28" y="106" font-size="10">${fmt(lowest, 3)}</text>`);
  svg.push(`<text x="${width - 2}" y="106" font-size="10" text-anchor="end">${fmt(highest, 3)}</text></svg>`);
  return svg.join("");
}

function drawHistograms(layer) {
  const box = $("histograms"), current = facts.get(state.image);
  box.replaceChildren();
  for (const model of shown()) {
    const name = stored(model, layer), histogram = current[model].histograms[name], measures = current[model].measures.layers[layer];
    if (!histogram) continue;
    const merged = histogram.merge > 1 ? `, ${histogram.merge} bins a bar` : "";
    const item = el("div", { class: "histogram" },
      el("div", {}, `${model}: entropy ${fmt(measures.entropy_bits)} bits, zero fraction ${fmt(measures.zero_fraction)} ` +
        `(bins of ${fmt(histogram.width)}${merged}; grey: exact zeros)`));
    item.insertAdjacentHTML("beforeend", histogramSvg(histogram));
    box.append(item);
  }
}

function drawSoftmax(entry) {
  const box = $("softmax"), current = facts.get(state.image);
  box.replaceChildren();
  for (const model of shown()) {
    const out = current[model];
    box.append(el("div", {}, `${model}: predicts ${out.predicted}${entry.label ? ` (true: ${entry.label})` : ""}`));
    const rows = el("div", { class: "bars", "data-model": model });
    out.softmax.forEach((p, k) => {
      const name = D.classes[k] || String(k);
      rows.append(el("span", { class: name === entry.label ? "true" : "" }, name),
        el("span", {}, el("div", { class: "bar", style: `width:${(100 * p).toFixed(2)}%` })), el("span", {}, fmt(p, 3)));
    });
    box.append(rows);
  }
}

function drawMeasures(layer) {
  const table = $("measures"), current = facts.get(state.image);
  const top = el("tr", {}, el("th", { rowspan: 2 }, layer)), sub = el("tr");
  for (const model of shown()) {
    top.append(el("th", { colspan: 2 }, model));
    sub.append(el("th", { title: "the share of probe images with a lower value (ties count half)" }, "this image (percentile among the probe images)"),
      el("th", { title: "mean over the probe images, with the 95 % bootstrap interval of that mean" }, "probe mean [95 % interval of the mean]"));
  }
  const rows = [top, sub];
  const OUT = D.keys.output;
  const measureNames = D.layer_measures.map((m) => ["layers", m]).concat(D.output_measures.map((m) => [OUT, m]));
  for (const [part, measure] of measureNames) {
    const row = el("tr", { "data-measure": measure, "data-part": part }, el("td", {}, part === OUT ? `${OUT}: ${measure}` : measure));
    for (const model of shown()) {
      const pick = (numbers) => (part === OUT ? numbers[OUT][measure] : (numbers.layers[layer] || {})[measure]) ?? null;
      const summary = part === OUT ? D.probe[model][OUT] : D.probe[model].layers[layer];
      const band = interval(summary, measure), mine = pick(current[model].measures), rank = pick(current[model].percentiles);
      row.append(el("td", {}, mine === null ? "—" : `${fmt(mine)} (${rank === null ? "—" : `${fmt(rank, 3)} %`})`),
        el("td", {}, fmtInterval(band)));
    }
    rows.push(row);
  }
  for (const measure of D.reliance_measures) {
    const numbers = shown().map((model) => (D.reliance[model] || {})[layer]);
    if (!numbers.some(Boolean)) continue;
    const row = el("tr", { "data-measure": measure, "data-part": "reliance" }, el("td", { title: "metrics/reliance.json: the layer's channels zeroed", class: "name" }, `reliance: ${measure}`));
    for (const summary of numbers) {
      const band = summary && summary[measure + D.keys.low] !== undefined ? interval(summary, measure) : null;
      row.append(el("td", {}, "—"), el("td", {}, band ? fmtInterval(band) : summary ? fmt(summary[measure]) : "—"));
    }
    rows.push(row);
  }
  table.replaceChildren(...rows);
}
