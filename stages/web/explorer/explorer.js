"use strict";
// The feature explorer's page: draws the maps from the bytes stages/lib/explorer.py stores, and the
// numbers beside them. No network: images/<i>.js scripts bring the maps, vendor/ brings Vega.

const D = JSON.parse(document.getElementById("explorer-data").textContent);
const $ = (id) => document.getElementById(id);
const state = { image: 0, layer: null, channel: 0, curve: "sqrt", epoch: null, hidden: new Set() };
const shown = () => D.models.filter((model) => !state.hidden.has(model));
const blocks = new Map(), facts = new Map(), waiting = new Map();
const LUT = D.lut.match(/.{6}/g).map((hex) => [0, 2, 4].map((k) => parseInt(hex.slice(k, k + 2), 16)));
const PAD = [204, 204, 204];
const views = [];
let C = null;  // the channel view's data, from channels.js once the first view is drawn

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function fmt(value, digits = 4) {
  if (value === null || value === undefined) return "—";
  if (typeof value !== "number") return String(value);
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) return value.toExponential(2);
  return String(Number(value.toPrecision(digits)));
}

function b64bytes(text) {
  const raw = atob(text), bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

// Loading an image's maps: a script beside the page calls explorer.receive.
window.explorer = {
  views, // [name, Vega view] of every chart drawn
  receiveChannels(data) {
    data.bytes = b64bytes(data.pixels);
    for (const model of Object.keys(data.models)) {
      for (const entry of Object.values(data.models[model].layers)) if (entry.feature) entry.featureBytes = b64bytes(entry.feature);
    }
    C = data;
  },
  async receive(index, deflated, imageFacts) {
    try {
      const block = await inflate(b64bytes(deflated));
      if (block.length !== D.block_length) throw new Error(`images/${index}.js holds ${block.length} bytes, not ${D.block_length}`);
      blocks.set(index, block);
      facts.set(index, imageFacts);
      settle(index, null);
    } catch (error) {
      settle(index, error);
    }
  },
};

async function inflate(bytes) {
  const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate")).getReader();
  const parts = [];
  for (let part = await reader.read(); !part.done; part = await reader.read()) parts.push(part.value);
  const block = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  parts.reduce((offset, part) => { block.set(part, offset); return offset + part.length; }, 0);
  return block;
}

function settle(index, error) {
  (waiting.get(index) || []).forEach(([done, fail]) => (error ? fail(error) : done()));
  waiting.delete(index);
}

function load(index) {
  if (blocks.has(index)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const first = !waiting.has(index);
    waiting.set(index, [...(waiting.get(index) || []), [resolve, reject]]);
    if (!first) return;
    const script = el("script", { src: `images/${index}.js` });
    script.onerror = () => settle(index, new Error(`cannot read images/${index}.js beside this page`));
    document.head.append(script);
  });
}

// Layers: each model's own, by name; a layer repeating an earlier one shows that one's maps.
const layerNames = [];
for (const model of D.models) for (const layer of D.cards[model].layers) if (!layerNames.includes(layer)) layerNames.push(layer);

function roleOf(layer) {
  for (const model of D.models) {
    const roles = D.cards[model].roles;
    for (const role of Object.keys(roles)) if (roles[role] === layer) return role.replace("_", " ");
  }
  return "";
}

function stored(model, layer) {
  const card = D.cards[model];
  return card.same[layer] || layer;
}

function channelsOf(layer) {
  return Math.max(...D.models.map((m) => (D.cards[m].grids[layer] || [1])[0]));
}

function mapBytes(model, layer, channel) {
  const card = D.cards[model], name = stored(model, layer);
  const place = card.blocks.find((entry) => entry[0] === name);
  const [, rows, columns] = card.grids[layer];
  const size = rows * columns, start = place[1] + channel * size;
  return blocks.get(state.image).subarray(start, start + size);
}

function colour(q) {
  const k = state.curve === "sqrt" ? Math.round(Math.sqrt(q / D.levels) * D.levels) : q;
  return LUT[Math.round((k * (LUT.length - 1)) / D.levels)];
}

function paint(canvas, model, layer, channel) {
  const [, rows, columns] = D.cards[model].grids[layer];
  const count = D.cards[model].counts[layer], bytes = mapBytes(model, layer, channel);
  canvas.width = columns;
  canvas.height = rows;
  const context = canvas.getContext("2d");
  const picture = context.createImageData(columns, rows);
  for (let i = 0; i < rows * columns; i++) {
    const rgb = channel * rows * columns + i < count || D.cards[model].grids[layer][0] > 1 ? colour(bytes[i]) : PAD;
    picture.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
  }
  context.putImageData(picture, 0, 0);
}

function value(layer, model, q) {
  const scale = D.scales[stored(model, layer)];
  return scale.low + q * scale.step;
}

function paintInput(canvas, entry, source) {
  const side = Math.round(Math.sqrt(b64bytes(entry.pixels).length / 3));
  drawPixels(canvas, b64bytes(entry[source]), 0, side, source === "pixels" ? 3 : entry.channels);
}

// An image's bytes (side × side × depth from `offset`, grey or RGB) drawn on `canvas`, or the part of it in `box`.
function drawPixels(canvas, bytes, offset, side, depth, box = null) {
  const [top, left, bottom, right] = box || [0, 0, side, side];
  const width = right - left, height = bottom - top;
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d"), picture = context.createImageData(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = offset + ((top + y) * side + left + x) * depth;
      const rgb = depth === 1 ? [bytes[at], bytes[at], bytes[at]] : [bytes[at], bytes[at + 1], bytes[at + 2]];
      picture.data.set([...rgb, 255], (y * width + x) * 4);
    }
  }
  context.putImageData(picture, 0, 0);
  return context;
}

// Controls.
function imageLabel(entry, index) {
  return `${index + 1}. ${entry.name}${entry.label ? ` (${entry.label})` : ""}`;
}

function buildControls() {
  const select = $("image");
  const groups = [["Subjects", false], ["Probe sample", true]];
  for (const [title, probe] of groups) {
    const group = el("optgroup", { label: title });
    D.images.forEach((entry, index) => {
      if (entry.probe === probe) group.append(el("option", { value: index }, imageLabel(entry, index)));
    });
    if (group.children.length) select.append(group);
  }
  for (const layer of layerNames) {
    const role = roleOf(layer);
    $("layer").append(el("option", { value: layer }, role ? `${layer} (${role})` : layer));
  }
  D.images.forEach((entry, index) => {
    const thumb = el("canvas", { title: imageLabel(entry, index), "data-index": index });
    thumb.addEventListener("click", () => show({ image: index }));
    $("strip").append(thumb);
  });
  select.addEventListener("change", () => show({ image: Number(select.value) }));
  $("layer").addEventListener("change", () => show({ layer: $("layer").value }));
  $("channel").addEventListener("input", () => show({ channel: Number($("channel").value) }));
  $("curve").addEventListener("change", () => show({ curve: $("curve").value }));
  for (const model of D.models) {
    const box = el("input", { type: "checkbox", "data-model": model });
    box.checked = true;
    box.addEventListener("change", () => {
      if (!box.checked && shown().length === 1) box.checked = true;  // one model stays in view
      else box.checked ? state.hidden.delete(model) : state.hidden.add(model);
      show({});
    });
    $("models").append(el("label", {}, box, ` ${model}`));
  }
  $("previous-image").addEventListener("click", () => step("image", -1));
  $("next-image").addEventListener("click", () => step("image", 1));
  document.addEventListener("keydown", (event) => {
    const target = event.target.tagName;
    if (target === "SELECT" || (target === "INPUT" && event.target.type !== "range") || event.altKey || event.ctrlKey || event.metaKey) return;
    const moves = { ArrowLeft: ["image", -1], ArrowRight: ["image", 1], ArrowUp: ["channel", 1], ArrowDown: ["channel", -1],
      "[": ["layer", -1], "]": ["layer", 1] };
    if (!moves[event.key]) return;
    event.preventDefault();
    step(...moves[event.key]);
  });
}

function step(what, by) {
  if (what === "image") show({ image: (state.image + by + D.images.length) % D.images.length });
  if (what === "channel") {
    const count = channelsOf(state.layer);
    show({ channel: (state.channel + by + count) % count });
  }
  if (what === "layer") {
    const i = layerNames.indexOf(state.layer);
    show({ layer: layerNames[(i + by + layerNames.length) % layerNames.length] });
  }
}

function fromHash() {
  const wanted = new URLSearchParams(location.hash.slice(1));
  const image = Number(wanted.get("image"));
  if (Number.isInteger(image) && image >= 0 && image < D.images.length) state.image = image;
  if (layerNames.includes(wanted.get("layer"))) state.layer = wanted.get("layer");
  const channel = Number(wanted.get("channel"));
  if (Number.isInteger(channel) && channel >= 0 && channel < channelsOf(state.layer)) state.channel = channel;
}

// Drawing the view.
function show(change) {
  Object.assign(state, change);
  if (change.layer !== undefined && change.channel === undefined) state.channel = Math.min(state.channel, channelsOf(state.layer) - 1);
  history.replaceState(null, "", `#image=${state.image}&layer=${encodeURIComponent(state.layer)}&channel=${state.channel}`);
  const index = state.image;
  return load(index).then(() => {
    if (index === state.image) draw();
    return true;
  }, (error) => {
    $("readout").textContent = error.message;  // this image cannot be drawn; the others still can
    return false;
  });
}

function draw() {
  const entry = D.images[state.image], layer = state.layer, channels = channelsOf(layer);
  $("image").value = String(state.image);
  $("layer").value = layer;
  $("channel").max = String(channels - 1);
  $("channel").value = String(state.channel);
  $("channel-number").textContent = `${state.channel} of ${channels}`;
  document.querySelectorAll("#strip canvas").forEach((c) => c.classList.toggle("selected", Number(c.dataset.index) === state.image));
  paintInput($("input"), entry, "input");
  $("input-caption").textContent = `${entry.name}${entry.label ? ` (${entry.label})` : ""}`;
  $("input-note").textContent = entry.channels === 1 ? "as the models see it (grayscale)" : "as the models see it";
  $("input-note").className = "small";
  for (const model of D.models) {
    modelFigure(model).hidden = state.hidden.has(model);
    if (!state.hidden.has(model)) drawModel(model, layer);
  }
  drawColorbar(layer);
  drawHistograms(layer);
  drawSoftmax(entry);
  drawMeasures(layer);
  drawChannel(layer);
  drawAttribution(entry);
  if (state.epoch !== null) drawEpochTable();
  document.documentElement.dataset.view = `${state.image}/${layer}/${state.channel}`;
}

function modelFigure(model) {
  let figure = document.querySelector(`figure.model[data-model="${CSS.escape(model)}"]`);
  if (!figure) {
    figure = el("figure", { class: "model", "data-model": model }, el("figcaption", {}, model),
      el("canvas", { class: "enlarged" }), el("p", { class: "small" }), el("div", { class: "channels" }));
    const big = figure.querySelector("canvas.enlarged");
    big.addEventListener("mousemove", (event) => readOut(model, big, event));
    $("maps").append(figure);
  }
  return figure;
}

function drawModel(model, layer) {
  const figure = modelFigure(model), card = D.cards[model];
  const big = figure.querySelector("canvas.enlarged"), note = figure.querySelector("p"), grid = figure.querySelector(".channels");
  grid.replaceChildren();
  if (!card.grids[layer]) {
    big.hidden = true;
    note.textContent = `${model} has no layer ${layer}`;
    return;
  }
  big.hidden = false;
  const [channels, rows, columns] = card.grids[layer];
  const channel = Math.min(state.channel, channels - 1);
  paint(big, model, layer, channel);
  big.dataset.channel = String(channel);
  const copy = card.same[layer] ? `; the same values as ${card.same[layer]}` : "";
  const shape = channels > 1 ? `${channels} maps of ${rows}×${columns}` : `${card.counts[layer]} values drawn ${rows}×${columns}`;
  const reliance = (D.channels[model] || {})[layer];
  const weight = (c) => reliance ? `; selectivity ${fmt(reliance.selectivity[c])}, importance ${fmt(reliance.importance[c])}` : "";
  note.textContent = `${layer} channel ${channel}: ${shape}${copy}${weight(channel)}; test accuracy ${fmt(D.info[model].test_accuracy)}`;
  if (channels === 1) return;
  for (let c = 0; c < channels; c++) {
    const thumb = el("canvas", { title: `channel ${c}${weight(c)}` });
    paint(thumb, model, layer, c);
    thumb.classList.toggle("selected", c === channel);
    thumb.addEventListener("click", () => show({ channel: c }));
    grid.append(thumb);
  }
}

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
  const same = selective === null ? "undefined (a dead channel)" : `${selective}${match === 1 ? ", the same" : match > 0 ? `, sharing the place (${fmt(match, 2)})` : ", another"}`;
  return [el("p", { class: "small damage" }, `Zeroed alone (probe set): its most-hurt class ${hurt.replaceAll("/", " and ") || "none"} loses ` +
    `${fmt(n.max_class_drop[channel], 3)} of its accuracy [${fmt(n.max_class_drop_low[channel], 3)}, ${fmt(n.max_class_drop_high[channel], 3)}] ` +
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
      `${fmt(s.class_specificity, 3)} [${fmt(s.class_specificity_low, 3)}, ${fmt(s.class_specificity_high, 3)}], ` +
      `untrained network ${fmt(s.class_specificity_initial, 3)}, gain over it ${fmt(s.class_specificity_over_initial, 3)} ` +
      `[${fmt(s.class_specificity_over_initial_low, 3)}, ${fmt(s.class_specificity_over_initial_high, 3)}]`),
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

function readOut(model, canvas, event) {
  const box = canvas.getBoundingClientRect();
  const column = Math.floor(((event.clientX - box.left) / box.width) * canvas.width);
  const row = Math.floor(((event.clientY - box.top) / box.height) * canvas.height);
  if (column < 0 || row < 0 || column >= canvas.width || row >= canvas.height || !blocks.has(state.image)) return;
  const channel = Number(canvas.dataset.channel), q = mapBytes(model, state.layer, channel)[row * canvas.width + column];
  const scale = D.scales[stored(model, state.layer)];
  $("readout").textContent = `${model} ${state.layer} channel ${channel}, row ${row}, column ${column}: ` +
    `${fmt(value(state.layer, model, q))} (stored to ±${fmt(scale.step / 2, 2)})`;
}

function drawColorbar(layer) {
  const canvas = $("colorbar-canvas"), context = canvas.getContext("2d"), bar = context.createImageData(256, 1);
  for (let i = 0; i < 256; i++) bar.data.set([...colour(Math.round((i * D.levels) / 255)), 255], i * 4);
  context.putImageData(bar, 0, 0);
  const model = D.models.find((m) => D.cards[m].grids[layer]);
  const scale = D.scales[stored(model, layer)];
  const high = scale.low + D.levels * scale.step;
  $("colorbar-labels").replaceChildren(el("span", {}, fmt(scale.low)), el("span", {}, fmt(high)));
  $("colorbar-note").textContent = `${layer}: one colour scale for every model and image shown, stored in ${D.levels} steps of ` +
    `${fmt(scale.step, 3)}` + (state.curve === "sqrt" ? "; colours by the square root of the position on it" : "");
}

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

function interval(summary, measure) {
  if (!summary || summary[measure] === undefined) return null;
  return [summary[measure], summary[measure + D.keys.low], summary[measure + D.keys.high]];
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
        el("td", {}, band ? `${fmt(band[0])} [${fmt(band[1])}, ${fmt(band[2])}]` : "—"));
    }
    rows.push(row);
  }
  for (const measure of D.reliance_measures) {
    const numbers = shown().map((model) => (D.reliance[model] || {})[layer]);
    if (!numbers.some(Boolean)) continue;
    const row = el("tr", { "data-measure": measure, "data-part": "reliance" }, el("td", { title: "metrics/reliance.json: the layer's channels zeroed", class: "name" }, `reliance: ${measure}`));
    for (const summary of numbers) {
      const band = summary && summary[measure + D.keys.low] !== undefined ? interval(summary, measure) : null;
      row.append(el("td", {}, "—"), el("td", {}, band ? `${fmt(band[0])} [${fmt(band[1])}, ${fmt(band[2])}]` : summary ? fmt(summary[measure]) : "—"));
    }
    rows.push(row);
  }
  table.replaceChildren(...rows);
}

// The claims, each linked to the numbers behind it.
function drawVerdicts() {
  const list = $("verdict-list");
  if (!D.verdicts.length) list.replaceWith(el("p", {}, "The claims compare two models trained here of different sizes; this run has fewer."));
  for (const verdict of D.verdicts) {
    const links = el("div", { class: "refs" });
    for (const ref of verdict.refs) links.append(refLink(ref));
    list.append(el("li", { "data-verdict": verdict.verdict },
      el("span", { class: `badge ${verdict.verdict.replace(" ", "-")}` }, verdict.verdict), verdict.claim,
      el("ul", { class: "evidence" }, ...verdict.evidence.map((line) => el("li", {}, line))), links));
  }
}

function refLink(ref) {
  const [kind, what] = ref;
  if (kind === "subject") {
    const index = D.images.findIndex((entry) => !entry.probe && entry.name === what);
    return el("a", { href: "#view", onclick: (event) => { event.preventDefault(); show({ image: index }); $("view").scrollIntoView(); } }, `→ the ${what}`);
  }
  const OUT = D.keys.output, output = kind === OUT, reliance = D.reliance_measures.includes(what);
  const model = D.models.find((m) => output || D.cards[m].roles[kind]);
  const layer = D.cards[model].roles[kind];
  const part = output ? OUT : reliance ? "reliance" : "layers";
  const key = output ? `models.<model>.${OUT}.${what}` : `models.<model>.layers.${layer}.${what}`;
  const link = el("a", { href: "#view", onclick: (event) => {
    event.preventDefault();
    show({ layer }).then(() => {
      const row = document.querySelector(`#measures tr[data-part="${part}"][data-measure="${what}"]`);
      row.classList.add("flash");
      setTimeout(() => row.classList.remove("flash"), 2500);
      row.scrollIntoView({ block: "center" });
    });
  } }, `→ ${output ? OUT : layer} ${what}`);
  return el("span", {}, link, el("code", {}, `metrics/${reliance ? "reliance" : "probe"}.json ${key}`), " ");
}

// Charts, drawn with the Vega beside the page once the first view is up.
function chart(box, spec, name) {
  const holder = el("div", { "data-chart": name });
  box.append(holder);
  return vegaEmbed(holder, { $schema: "https://vega.github.io/schema/vega-lite/v5.json", ...spec }, { actions: false, renderer: "canvas" })
    .then((result) => { views.push([name, result.view]); return result.view; });
}

function empty(box, text) {
  box.append(el("div", { class: "empty" }, text));
}

const WIDTH = () => Math.min(360, window.innerWidth - 90);

function drawCharts() {
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
  const curves = D.charts.training || [];
  for (const [measure, title] of [["accuracy", "accuracy"], ["loss", "loss"]]) {
    jobs.push(chart($("training-charts"), { title: `${title} by epoch (seed ${D.seed}; dashed: validation)`, width: WIDTH(), height: 200,
      data: { values: curves }, transform: [{ fold: [measure, `val_${measure}`], as: ["split", "value"] }],
      mark: { type: "line", point: true }, encoding: { x: { field: "epoch", type: "quantitative" },
        y: { field: "value", type: "quantitative", title, scale: { zero: false } }, color: { field: "model", type: "nominal" },
        strokeDash: { field: "split", type: "nominal", legend: null }, tooltip: [{ field: "model" }, { field: "epoch" }, { field: "split" }, { field: "value", format: ".4f" }] } },
    `training ${measure}`));
  }
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
  return Promise.all(jobs);
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

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = el("script", { src });
    script.onload = resolve;
    script.onerror = () => reject(new Error(`cannot read ${src} beside this page`));
    document.head.append(script);
  });
}

async function start() {
  $("summary").textContent = D.summary;
  state.layer = D.cards[D.models[0]].roles.first_conv || layerNames[0];
  fromHash();
  buildControls();
  D.images.forEach((entry, index) => paintInput(document.querySelector(`#strip canvas[data-index="${index}"]`), entry, "pixels"));
  drawVerdicts();
  buildEpochs();
  if (await show({})) {
    window.explorerFirstDraw = performance.now();
    document.documentElement.dataset.drawn = "1";
  }
  try {
    await loadScript("channels.js");
    drawChannel(state.layer);
    window.explorerChannelsDrawn = performance.now();
    document.documentElement.dataset.channels = "1";
  } catch (error) {
    $("channel-note").textContent = error.message;
  }
  for (const name of D.vendor) await loadScript(`vendor/${name}`);
  await drawCharts();
  window.explorerChartsDrawn = performance.now();
  document.documentElement.dataset.charts = String(views.length);
}

start().catch((error) => {
  document.documentElement.dataset.failed = error.message;
  $("readout").textContent = `The explorer could not start: ${error.message}`;
  throw error;
});
