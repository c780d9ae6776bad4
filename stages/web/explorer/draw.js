"use strict";
// The drawing every view shares: elements, numbers, pictures from bytes, charts.

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

// A number with its interval, [mean, low, high], by the metrics' keys (D.keys); null where it has none.
function interval(summary, measure) {
  if (!summary || summary[measure] === undefined) return null;
  return [summary[measure], summary[measure + D.keys.low], summary[measure + D.keys.high]];
}

function fmtInterval(band, digits = 4) {
  return band ? `${fmt(band[0], digits)} [${fmt(band[1], digits)}, ${fmt(band[2], digits)}]` : "—";
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

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = el("script", { src });
    script.onload = resolve;
    script.onerror = () => reject(new Error(`cannot read ${src} beside this page`));
    document.head.append(script);
  });
}
