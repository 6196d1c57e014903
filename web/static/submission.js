// A submission's page, live: server-sent events from the judge, polling where they fail.
// Rebuilds the verdict, the tests table and the time chart from the submission's document.
const root = document.getElementById("submission");
const tests = [];
const fmtTime = (s) => `${s.toFixed(3)} s`;
const fmtMiB = (b) => `${(b / 1048576).toFixed(1)} MiB`;

function cell(text, cls) {
  const td = document.createElement("td");
  if (cls) {
    const span = document.createElement("span");
    span.className = `verdict v-${cls}`;
    span.textContent = text;
    td.append(span);
  } else {
    td.textContent = text;
  }
  return td;
}

function drawTests() {
  const body = document.getElementById("tests");
  body.replaceChildren(...tests.map((t) => {
    const tr = document.createElement("tr");
    tr.append(cell(t.name), cell(t.verdict, t.verdict), cell(fmtTime(t.time)), cell(fmtMiB(t.memory)));
    return tr;
  }));
  const svg = document.getElementById("chart");
  const most = Math.max(0.001, ...tests.map((t) => t.time));
  const width = 300 / Math.max(tests.length, 1);
  svg.replaceChildren(...tests.map((t, i) => {
    const r = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    const h = Math.max(1, (t.time / most) * 78);
    r.setAttribute("x", String(i * width + width * 0.1));
    r.setAttribute("width", String(width * 0.8));
    r.setAttribute("y", String(80 - h));
    r.setAttribute("height", String(h));
    if (t.verdict !== "AC") r.setAttribute("class", "bad");
    const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
    title.textContent = `${t.name}: ${fmtTime(t.time)}`;
    r.append(title);
    return r;
  }));
}

function show(doc) {
  const label = doc.verdict || doc.state;
  const verdict = document.getElementById("verdict");
  verdict.textContent = label;
  verdict.className = `verdict v-${label}`;
  root.dataset.state = doc.state;
  document.getElementById("summary").textContent =
    doc.time !== null && doc.time !== undefined ? `${fmtTime(doc.time)} · ${fmtMiB(doc.memory)}` : "";
  if (doc.verdict === "CE") {
    document.getElementById("compile").textContent = doc.compile_output || "";
    document.getElementById("compile-section").hidden = false;
  }
  tests.length = 0;
  tests.push(...(doc.tests || []));
  drawTests();
}

async function poll() {
  while (root.dataset.state !== "done") {
    try {
      const r = await fetch(root.dataset.json, { headers: { Accept: "application/json" } });
      if (r.ok) show(await r.json());
    } catch (e) { /* the network blinked: try again */ }
    if (root.dataset.state !== "done") await new Promise((ok) => setTimeout(ok, 1000));
  }
}

function follow() {
  if (!("EventSource" in window)) return poll();
  const source = new EventSource(root.dataset.events);
  let heard = false;
  source.addEventListener("submission", (e) => { heard = true; show(JSON.parse(e.data)); });
  source.addEventListener("state", (e) => {
    const s = JSON.parse(e.data).state;
    root.dataset.state = s;
    const verdict = document.getElementById("verdict");
    verdict.textContent = s;
    verdict.className = `verdict v-${s}`;
  });
  source.addEventListener("test", (e) => {
    const t = JSON.parse(e.data);
    tests[t.index] = { name: t.name, verdict: t.verdict, time: t.time, memory: t.memory };
    drawTests();
  });
  source.addEventListener("done", (e) => { show(JSON.parse(e.data).submission); source.close(); });
  source.onerror = () => {
    source.close();
    if (root.dataset.state !== "done") poll();
    else if (!heard) poll();
  };
}

drawTests.call(null);
if (root.dataset.state !== "done") follow();
else fetch(root.dataset.json).then((r) => r.json()).then(show).catch(() => {});
