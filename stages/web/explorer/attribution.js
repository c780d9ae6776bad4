"use strict";
// Attributions: where the predicted class's evidence lies in a subject, beside the same map from the
// initial weights, with the sanity check.

// Attributions: where the predicted class's evidence lies in a subject, beside the same map from the initial weights.
const HEAT = (t) => [255, Math.round(255 * Math.min(1, t * 1.6)), Math.round(60 * t)];

function overlay(entry, map, title) {
  const canvas = el("canvas", { class: "overlay", title });
  const bytes = b64bytes(map.bytes), input = b64bytes(entry.input), side = Math.round(Math.sqrt(bytes.length));
  canvas.width = side;
  canvas.height = side;
  const context = canvas.getContext("2d"), picture = context.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const grey = entry.channels === 1 ? input[i] : Math.round((input[3 * i] + input[3 * i + 1] + input[3 * i + 2]) / 3);
    const t = map.signed ? (bytes[i] - 127.5) / 127.5 : bytes[i] / 255;
    const colour = map.signed ? (t >= 0 ? [220, 40, 40] : [40, 90, 220]) : HEAT(t);
    const a = Math.min(1, Math.abs(t)) * 0.85;
    picture.data.set([0, 1, 2].map((k) => Math.round(grey * (1 - a) + colour[k] * a)).concat(255), i * 4);
  }
  context.putImageData(picture, 0, 0);
  return canvas;
}

function drawAttribution(entry) {
  const box = $("attribution-models");
  box.replaceChildren();
  const found = shown().filter((model) => (D.attributions[model] || {})[entry.name] && !entry.probe);
  $("attribution-note").textContent = entry.probe ? "Attributions are computed for the subjects; pick one above."
    : `Seed ${D.seed}. Integrated gradients (red: for, blue: against the class) and Grad-CAM at the last convolution, ` +
      `each beside the same map from the network with every layer re-initialised (its untrained weights): a map that ` +
      `explains the model must agree with it no more than two independent initialisations' maps agree with each other ` +
      `(the baseline ρ₀: what the picture alone makes them share); flagged at Spearman ρ ≥ (1 + ρ₀)/2, signed or of magnitudes.`;
  for (const model of found) {
    const facts = D.attributions[model][entry.name];
    const panel = el("figure", { class: "panel", "data-model": model },
      el("figcaption", {}, `${model}: predicts ${facts.predicted} (p ${fmt(facts.probability, 3)})`));
    for (const [method, m] of Object.entries(facts.methods)) {
      const row = el("div", { class: "maps-row", "data-method": method });
      row.append(el("figure", {}, overlay(entry, m.map, `${method}, trained`), el("p", { class: "small" }, "trained")));
      if (m.initial) row.append(el("figure", {}, overlay(entry, m.initial, `${method}, randomised`), el("p", { class: "small" }, "randomised")));
      panel.append(el("h4", {}, method.replaceAll("_", " ") + (m.layer ? ` at ${m.layer}` : "")), row,
        el("p", { class: "small" }, sanityVerdict(m), completeness(m)), cascadeLine(m));
    }
    box.append(panel);
  }
}

function sanityVerdict(m) {
  const rho = m.rank_correlation || {}, base = m.baseline || {};
  const said = `ρ with the randomised map ${fmt(rho.signed, 3)} signed, ${fmt(rho.absolute, 3)} of magnitudes; ` +
    `baseline ρ₀ ${fmt(base.signed, 3)}, ${fmt(base.absolute, 3)}`;
  if (m.passes === null) return el("span", { class: "undefined small" }, `sanity check undefined: ${m.sanity} (${said})`);
  return m.passes ? el("span", { class: "passed" }, `passes: ${said}`)
    : el("span", { class: "flagged" }, `FAILS the sanity check (${(m.flagged_on || []).join(", ")}): ${said}`);
}

function completeness(m) {
  if (m.completeness_gap === undefined || m.completeness_gap === null) return "";
  return `; ${m.steps} steps: sums to the logit's change within ${fmt(100 * m.completeness_gap, 2)} % ` +
    `(${fmt(m.completeness_gap_absolute, 3)})` + (m.complete ? "" : " — MISSES the tolerance");
}

function cascadeLine(m) {
  if (!m.cascade) return "";
  return el("p", { class: "small cascade" }, "Cascade, layers re-initialised from the top (ρ signed / magnitudes): " +
    m.cascade.map((step) => `${step.layer} ${fmt(step.signed, 2)} / ${fmt(step.absolute, 2)}`).join(" → "));
}
