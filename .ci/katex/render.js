// Renders formulas with KaTeX, as Colab and VS Code typeset notebook markdown.
// stdin: a JSON list of {"tex": ..., "display": bool, "where": ...};
// stdout: a JSON list of {"where": ..., "tex": ..., "error": ...}, one per formula that fails.
const katex = require("katex");
let input = "";
process.stdin.on("data", (d) => { input += d; });
process.stdin.on("end", () => {
  const errors = [];
  for (const f of JSON.parse(input)) {
    try {
      katex.renderToString(f.tex, { displayMode: f.display, throwOnError: true, strict: "ignore" });
    } catch (e) {
      errors.push({ where: f.where, tex: f.tex, error: String(e.message || e) });
    }
  }
  process.stdout.write(JSON.stringify(errors));
});
