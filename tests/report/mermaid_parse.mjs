// Parses Mermaid diagrams with Mermaid's own parser and prints what it read.
// Input (stdin): a JSON list of diagram texts. Output (stdout): one JSON object per
// diagram: {ok, error, type, vertices: [[id, label]], edges: [[from, to, style]],
// subgraphs: [[id, title, [node ids]]]}. Labels are given back decoded (Mermaid keeps
// "#35;" entities in an internal form until it draws them).
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });

const decode = (text) => String(text).replace(/ﬂ°°(\d+)¶ß/g, (_, code) => String.fromCodePoint(Number(code)));
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const results = [];
for (const text of JSON.parse(Buffer.concat(chunks).toString('utf8'))) {
  try {
    const parsed = await mermaid.parse(text);
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
    const db = diagram.db;
    results.push({
      ok: true,
      type: parsed.diagramType,
      vertices: [...db.getVertices().values()].map((v) => [v.id, decode(v.text)]),
      edges: db.getEdges().map((e) => [e.start, e.end, e.style || []]),
      subgraphs: db.getSubGraphs().map((s) => [s.id, decode(s.title), s.nodes]),
    });
  } catch (error) {
    results.push({ ok: false, error: String(error && error.message ? error.message : error).slice(0, 500) });
  }
}
process.stdout.write(JSON.stringify(results));
