"use strict";
// The feature explorer's page (stages/web/explorer/): its data, what is shown, and the images' maps
// loaded on demand. No network: images/<i>.js scripts bring the maps, channels.js the channel view's
// data, vendor/ brings Vega. The page's scripts share these names; start.js, the last, starts it.

const D = JSON.parse(document.getElementById("explorer-data").textContent);
const $ = (id) => document.getElementById(id);
const state = { image: 0, layer: null, channel: 0, curve: "sqrt", epoch: null, hidden: new Set() };
const shown = () => D.models.filter((model) => !state.hidden.has(model));
const blocks = new Map(), facts = new Map(), waiting = new Map();
const views = [];
let C = null;  // the channel view's data, from channels.js once the first view is drawn

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
