// Parses PromQL expressions with Prometheus's own grammar (@prometheus-io/lezer-promql, installed by eng/setup.sh into
// .tools/promql; found through NODE_PATH). Input: one JSON string per line on stdin. Output: one line per expression,
// "ok" or "error at OFFSET: TEXT AROUND IT".
const { parser } = require('@prometheus-io/lezer-promql');
const lines = require('fs').readFileSync(0, 'utf8').split('\n').filter(l => l.length > 0);
for (const line of lines) {
  const expr = JSON.parse(line);
  let error = null;
  parser.parse(expr).iterate({ enter: n => { if (n.type.isError && error === null) { error = n.from; } } });
  console.log(error === null ? 'ok' : `error at ${error}: ${expr.slice(Math.max(0, error - 30), error + 30)}`);
}
