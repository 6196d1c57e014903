// A problem's verification page: while the report is pending, check each two seconds and
// reload the page once it is there.
const root = document.getElementById("verification");

async function check() {
  try {
    const r = await fetch(root.dataset.json, { headers: { Accept: "application/json" } });
    if (r.ok && (await r.json()).verification.state === "done") {
      window.location.reload();
      return;
    }
  } catch (e) { /* try again */ }
  setTimeout(check, 2000);
}

if (root.dataset.state === "pending") setTimeout(check, 2000);
