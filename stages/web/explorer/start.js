"use strict";
// Starts the page: the first view, then the channel view's data, then the charts.

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
  await Promise.all([...drawCkaCharts(), ...drawTrainingCharts(), ...drawSweepCharts(), ...drawDynamicsCharts()]);
  window.explorerChartsDrawn = performance.now();
  document.documentElement.dataset.charts = String(views.length);
}

start().catch((error) => {
  document.documentElement.dataset.failed = error.message;
  $("readout").textContent = `The explorer could not start: ${error.message}`;
  throw error;
});
