"use strict";
// The claims, each linked to the numbers behind it.

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
