"use strict";
// What a channel responds to: its optimised input, its top test images (the patch each one's peak
// sees), the classes of its top images, what zeroing it costs each class and what builds it; for the
// output layer, each class's optimised input.

// What a channel responds to: its optimised input, its top test images (the patch each one's peak
// sees) and the classes of its top images; for the output layer, each class's optimised input.
function featureCanvas(entry, channel, title, crop = true) {
  const canvas = el("canvas", { class: "enlarged", title });
  const size = C.side * C.side * C.depth, box = crop ? entry.feature_box : null;
  drawPixels(canvas, entry.featureBytes, channel * size, C.side, C.depth, box || undefined);
  return canvas;
}

function showWhole(imageRow, box, caption) {
  const canvas = $("hover-image"), size = C.side * C.side * C.depth;
  const context = drawPixels(canvas, C.bytes, imageRow * size, C.side, C.depth);
  const [top, left, bottom, right] = box;
  context.strokeStyle = "#ff2d55";
  context.lineWidth = 1;
  context.strokeRect(left + 0.5, top + 0.5, right - left - 1, bottom - top - 1);
  $("hover-caption").textContent = caption;
  $("hover").hidden = false;
}

function whole(box) {
  return !box || (box[0] === 0 && box[1] === 0 && box[2] === C.side && box[3] === C.side);
}

function tallyBars(counts) {
  const total = counts.reduce((a, b) => a + b, 0), top = Math.max(...counts);
  const rows = el("div", { class: "bars tally" });
  counts.forEach((count, k) => {
    rows.append(el("span", { class: count === top ? "top" : "" }, C.classes[k]),
      el("span", {}, el("div", { class: "bar", style: `width:${((100 * count) / Math.max(1, total)).toFixed(1)}%` })), el("span", {}, fmt(count, 3)));
  });
  return rows;
}

function dropBars(drops, hurt) {
  const top = Math.max(1e-9, ...drops.map((d) => Math.abs(d ?? 0)));
  const rows = el("div", { class: "bars drops" });
  drops.forEach((drop, k) => {
    rows.append(el("span", { class: hurt.split("/").includes(C.classes[k]) ? "top" : "" }, C.classes[k]),
      el("span", {}, el("div", { class: drop < 0 ? "bar gain" : "bar", style: `width:${((100 * Math.abs(drop ?? 0)) / top).toFixed(1)}%` })), el("span", {}, fmt(drop, 3)));
  });
  return rows;
}

// What zeroing the channel alone costs each class (the score stage, probe set; Zhou et al. 2018).
function damageNote(model, layer, channel) {
  const n = (D.channels[model] || {})[layer];
  if (!n || !n.class_drops) return [];
  const hurt = n.most_hurt[channel] || "", selective = n.selective_class[channel], match = n.hurt_match[channel];
  const [drop, low, high] = interval(n, "max_class_drop").map((values) => values[channel]);
  const same = selective === null ? "undefined (a dead channel)" : `${selective}${match === 1 ? ", the same" : match > 0 ? `, sharing the place (${fmt(match, 2)})` : ", another"}`;
  return [el("p", { class: "small damage" }, `Zeroed alone (probe set): its most-hurt class ${hurt.replaceAll("/", " and ") || "none"} loses ` +
    `${fmt(drop, 3)} of its accuracy [${fmt(low, 3)}, ${fmt(high, 3)}] ` +
    `(its loss +${fmt(n.most_hurt_loss_rise[channel], 3)}), the whole probe set ${fmt(n.importance[channel], 3)}${n.importance[channel] < 0 ? " (a gain)" : ""}; its selective class: ${same}. ` +
    "Accuracy lost by class:"), dropBars(n.class_drops[channel], hurt)];
}

// What builds the channel: its strongest inputs from the layer below (lib/circuits.py), as links.
function inputsNote(entry, channel) {
  if (!entry.inputs) return [];
  const link = ([c, v]) => el("a", { href: "#channel-models", class: "input-link", "data-layer": entry.below, "data-channel": String(c),
    onclick: (event) => { event.preventDefault(); show({ layer: entry.below, channel: c }); } }, `${entry.below} ${c} (${v > 0 ? "+" : ""}${fmt(v, 3)})`);
  const list = (pairs) => (pairs.length ? pairs.flatMap((pair, i) => (i ? [", ", link(pair)] : [link(pair)])) : ["none"]);
  const { positive, negative } = entry.inputs[channel];
  return [el("p", { class: "small inputs" }, `Built from ${entry.below} (weight × activation at its peak, mean over its top images): `,
    ...list(positive), "; against it: ", ...list(negative), `; the rest (its bias) ${fmt(entry.inputs_rest[channel], 3)}.`)];
}

function channelPanel(model, layer, channel) {
  const entry = C.models[model].layers[layer], panel = el("figure", { class: "panel", "data-model": model });
  panel.append(el("figcaption", {}, `${model}: ${layer} channel ${channel}`));
  if (entry.constant && entry.constant[channel]) {
    panel.append(el("p", { class: "small" }, "Constant on every test image (a dead channel): it has no top images and no optimised input worth drawing."));
    return panel;
  }
  const row = el("div", { class: "row" });
  if (entry.feature) {
    const still = entry.feature_constant[channel];
    row.append(still ? el("p", { class: "small" }, "No input changes this channel: no optimised input.")
      : el("div", {}, featureCanvas(entry, channel, `optimised input; objective reached ${fmt(entry.objective[channel])}`),
        el("p", { class: "small" }, whole(entry.feature_box) ? "optimised input" : "optimised input, cropped to what the unit sees (grey beyond)")));
  }
  if (entry.top) {
    const grid = el("div", { class: "examples" });
    entry.top[channel].forEach((imageRow, rank) => {
      const box = entry.box[channel][rank], index = C.images[imageRow];
      const caption = `test ${index}: peak ${fmt(entry.value[channel][rank])} (rank ${rank + 1}); the box is what the peak sees`;
      const crop = el("canvas", { title: caption, "data-index": index });
      drawPixels(crop, C.bytes, imageRow * C.side * C.side * C.depth, C.side, C.depth, box);
      crop.addEventListener("mouseenter", () => showWhole(imageRow, box, caption));
      crop.addEventListener("mouseleave", () => { $("hover").hidden = true; });
      grid.append(crop);
    });
    const tiedShown = entry.tied[channel][0], shownNote = tiedShown > 1 ? `; ${tiedShown} images tie at the last place shown (the lowest indices are shown)` : "";
    row.append(el("div", {}, grid, el("p", { class: "small" }, `top ${entry.top[channel].length} test images, cropped to the receptive field${shownNote}`)));
  }
  panel.append(row, ...inputsNote(entry, channel), ...damageNote(model, layer, channel));
  if (entry.tally) {
    const total = Math.round(entry.tally[channel].reduce((a, b) => a + b, 0)), s = entry.summary || {}, tied = entry.tied[channel][1];
    panel.append(el("p", { class: "small" }, `Classes of its top ${total} test images` +
      (tied > 1 ? ` (${tied} images tie at the last place and share what is left of it)` : "") +
      `: class specificity ${fmt(entry.specificity[channel], 3)}, chance ${fmt(C.chance, 3)}. Layer mean over seeds ` +
      `${fmtInterval(interval(s, "class_specificity"), 3)}, ` +
      `untrained network ${fmt(s.class_specificity_initial, 3)}, gain over it ${fmtInterval(interval(s, "class_specificity_over_initial"), 3)}`),
    tallyBars(entry.tally[channel]));
  }
  return panel;
}

function classesPanel(model, layer) {
  const entry = C.models[model].layers[layer], panel = el("figure", { class: "panel", "data-model": model });
  const strip = el("div", { class: "classes-strip" });
  for (let k = 0; k < entry.channels; k++) {
    const name = C.classes[k] || String(k);
    strip.append(el("div", {}, entry.feature_constant[k] ? el("p", { class: "small" }, "none") : featureCanvas(entry, k, `optimised input for ${name}`), name));
  }
  panel.append(el("figcaption", {}, `${model}: an input optimised for each class`), strip);
  return panel;
}

function drawChannel(layer) {
  const box = $("channel-models");
  if (!C) return;
  box.replaceChildren();
  const output = D.models.some((m) => D.cards[m].roles[D.keys.output] === layer);
  const having = shown().filter((model) => C.models[model] && C.models[model].layers[layer]);
  $("channel-title").textContent = output ? `An input optimised for each class (${layer})` : `What channel ${state.channel} of ${layer} responds to`;
  $("channel-note").textContent = !having.length ? `${layer} is not a layer whose channels are studied (the convolutions and the last hidden layer are).`
    : output ? `Seed ${D.seed}. Each input is optimised to raise one class's logit.`
      : `Seed ${D.seed}. Hover a crop to see its whole image; the box is the peak's receptive field.`;
  for (const model of having) box.append(output ? classesPanel(model, layer) : channelPanel(model, layer, Math.min(state.channel, C.models[model].layers[layer].channels - 1)));
}
