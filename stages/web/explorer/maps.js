"use strict";
// The maps view: the controls, each model's maps of the chosen layer and channel, the colour scale
// and a map's values under the pointer.

const LUT = D.lut.match(/.{6}/g).map((hex) => [0, 2, 4].map((k) => parseInt(hex.slice(k, k + 2), 16)));
const PAD = [204, 204, 204];  // where a layer has fewer values than its grid

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
