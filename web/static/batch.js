// A batch's page, live: polls the batch each second and fills in its table and progress bar.
const root = document.getElementById("batch");
const fmt = (v, f) => (v === null || v === undefined ? "" : f(v));

function row(r) {
  const tr = document.createElement("tr");
  const td = (text) => { const c = document.createElement("td"); c.textContent = text; return c; };
  const link = document.createElement("a");
  link.href = `/submissions/${r.submission}`;
  link.textContent = String(r.submission);
  const linkCell = document.createElement("td");
  linkCell.append(link);
  const v = document.createElement("span");
  v.className = `verdict v-${r.verdict || r.state}`;
  v.textContent = r.verdict || r.state;
  const vCell = document.createElement("td");
  vCell.append(v);
  tr.append(td(r.label), linkCell, td(r.language), vCell, td(fmt(r.score, String)),
    td(fmt(r.time, (t) => `${t.toFixed(3)} s`)), td(fmt(r.memory, (m) => `${(m / 1048576).toFixed(1)} MiB`)));
  return tr;
}

async function tick() {
  try {
    const r = await fetch(root.dataset.json, { headers: { Accept: "application/json" } });
    if (r.ok) {
      const doc = await r.json();
      const done = doc.results.filter((x) => x.state === "done").length;
      const bar = document.getElementById("progress");
      bar.max = doc.results.length;
      bar.value = done;
      document.getElementById("progress-text").textContent = `${done} of ${doc.results.length}`;
      document.getElementById("rows").replaceChildren(...doc.results.map(row));
      if (done === doc.results.length) return;
    }
  } catch (e) { /* try again */ }
  setTimeout(tick, 1000);
}

tick();
