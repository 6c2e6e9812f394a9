/**
 * The candidates for parsing a notifications call, measured on the same payloads in one process
 * (`npm run build` first; `node bench/xml-scanner.mjs [--quick] [--json]`):
 *
 *   scanner      parseXml: soap/scanner.ts, the one-pass scanner the gateway uses (bytes in,
 *                namespace-resolved XmlElement tree out, every check and limit);
 *   fxp-path     parseXmlFxp: the parser it replaced (strict decode and pre-scan, fast-xml-parser
 *                on the tags, conversion), same checks, same tree; it is the tests' oracle now,
 *                test/oracle/parser-fxp.ts, not in dist/: compiled here with tsconfig.oracle.json
 *                into bench/out/oracle/ (git-ignored) before anything is measured;
 *   fxp-alone    fast-xml-parser's XMLValidator.validate + XMLParser.parse on the decoded text:
 *                no namespaces, no limits, no model (what the library costs by itself);
 *   saxes        saxes in strict xmlns mode, events only, no tree (only if `saxes` can be imported:
 *                it is not a dependency; SAXES=/path/to/saxes.js to point at a copy);
 *   regex-floor  decode, then count /<[^>]*>/g matches: the floor for any JavaScript parser that
 *                looks at every tag;
 *   full-soap    what the gateway does per request: parseXml + readOutboundMessage + the SOAP
 *                body (bytes);
 *   full-json    the same with the JSON body (Buffer.from of the JSON string, as the stage does);
 *   fast-soap    what the gateway does per request now: prepareMessage, which reads a message of
 *                Salesforce's own shape the fast way (soap/canonical.ts, no tree, values copied as
 *                bytes, verbatim notifications forwarded as parts of the body) and any other the
 *                general way above; the table says which way each payload took;
 *   fast-json    the same with the JSON body.
 *
 * Payloads: the 1/10/100-notification fixtures and the two maximum-size (5 MB) messages of
 * bench/lib/payloads.mjs. Small payloads: the best of several batch medians (µs per message);
 * 5 MB ones: median and worst of several runs, the worst being the event-loop pause.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DEFAULT_XML_LIMITS, parseXml } from '../dist/soap/parser.js';
import { readOutboundMessage } from '../dist/soap/envelope.js';
import { buildSoapRequest } from '../dist/forward/soap-body.js';
import { buildJsonRequest } from '../dist/forward/json-body.js';
import { bodyLength } from '../dist/forward/upstream.js';
import { prepareMessage } from '../dist/soap/prepare.js';
import { readCanonical } from '../dist/soap/canonical.js';
import { maxFieldsMessage, maxTextMessage, notificationPayloads } from './lib/payloads.mjs';

const QUICK = process.argv.includes('--quick');
const JSON_OUT = process.argv.includes('--json');

/** Compiles the oracle (and the src/ files it imports) with tsc, then imports it. */
async function loadOracle() {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', fileURLToPath(new URL('../tsconfig.oracle.json', import.meta.url))]);
  } catch (err) {
    process.stderr.write(String(err.stdout ?? ''));
    throw new Error('tsc -p tsconfig.oracle.json failed', { cause: err });
  }
  return (await import('./out/oracle/test/oracle/parser-fxp.js')).parseXmlFxp;
}
const parseXmlFxp = await loadOracle();

async function loadSaxes() {
  for (const specifier of [process.env.SAXES, 'saxes']) {
    if (specifier === undefined || specifier === '') continue;
    try {
      return (await import(specifier)).SaxesParser;
    } catch {
      // not installed there
    }
  }
  return undefined;
}
const SaxesParser = await loadSaxes();

const fxp = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, parseAttributeValue: false, trimValues: false, processEntities: false });
const NO_SESSION = { forwardSessionId: false };

const CANDIDATES = {
  scanner: (buf) => parseXml(buf, DEFAULT_XML_LIMITS).children.length,
  'fxp-path': (buf) => parseXmlFxp(buf, DEFAULT_XML_LIMITS).children.length,
  'fxp-alone': (buf) => {
    const text = buf.toString('utf8');
    const valid = XMLValidator.validate(text);
    if (valid !== true) throw new Error(`fxp: ${JSON.stringify(valid)}`);
    return fxp.parse(text) ? 1 : 0;
  },
  ...(SaxesParser === undefined ? {} : {
    saxes: (buf) => {
      const parser = new SaxesParser({ xmlns: true, position: false });
      let n = 0;
      parser.on('opentag', () => { n++; });
      parser.on('text', () => { n++; });
      parser.on('error', (err) => { throw err; });
      parser.write(buf.toString('utf8')).close();
      return n;
    },
  }),
  'regex-floor': (buf) => {
    const text = buf.toString('utf8');
    const re = /<[^>]*>/g;
    let n = 0;
    while (re.exec(text) !== null) n++;
    return n;
  },
  'full-soap': (buf) => buildSoapRequest(readOutboundMessage(parseXml(buf, DEFAULT_XML_LIMITS)), NO_SESSION).length,
  'full-json': (buf) => Buffer.from(buildJsonRequest(readOutboundMessage(parseXml(buf, DEFAULT_XML_LIMITS)), NO_SESSION)).length,
  'fast-soap': (buf) => bodyLength(prepareMessage(buf, { format: 'soap', forwardSessionId: false, limits: DEFAULT_XML_LIMITS }).forwardBody),
  'fast-json': (buf) => bodyLength(prepareMessage(buf, { format: 'json', forwardSessionId: false, limits: DEFAULT_XML_LIMITS }).forwardBody),
};

const notifications = notificationPayloads();
const PAYLOADS = [
  ['1 notification', notifications[1]],
  ['10 notifications', notifications[10]],
  ['100 notifications', notifications[100]],
  ['max-text 5 MB', maxTextMessage()],
  ['max-fields 5 MB', maxFieldsMessage()],
];

let sink = 0;

/** Per-call times of `runs` calls, sorted, in µs. */
function times(fn, buf, runs) {
  const t = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    sink += fn(buf);
    t.push((performance.now() - started) * 1000);
  }
  return t.sort((a, b) => a - b);
}

function measureSmall(fn, buf) {
  const batch = Math.max(20, Math.min(2_000, Math.round(4e6 / buf.length)));
  times(fn, buf, batch); // warm-up
  const medians = [];
  for (let k = 0; k < (QUICK ? 3 : 9); k++) medians.push(times(fn, buf, batch)[batch >> 1]);
  medians.sort((a, b) => a - b);
  return { us: medians[0], worstUs: medians.at(-1), runs: batch * medians.length };
}

function measureLarge(fn, buf) {
  // Warm-up runs also let the allocator keep the pages a 5 MB message needs.
  times(fn, buf, QUICK ? 1 : 3);
  const t = times(fn, buf, QUICK ? 3 : 9);
  return { us: t[t.length >> 1], worstUs: t.at(-1), runs: t.length };
}

const loadBefore = os.loadavg();
const rows = [];
for (const [payload, buf] of PAYLOADS) {
  for (const [candidate, fn] of Object.entries(CANDIDATES)) {
    const { us, worstUs, runs } = buf.length > 1e6 ? measureLarge(fn, buf) : measureSmall(fn, buf);
    rows.push({ payload, bytes: buf.length, candidate, usPerMessage: us, worstUs, mbPerSecond: buf.length / us, runs });
  }
}

const names = Object.keys(CANDIDATES);
const format = (us) => (us < 100 ? us.toFixed(1) : us < 10_000 ? us.toFixed(0) : `${(us / 1000).toFixed(1)} ms`);
const header = ['payload', 'bytes', ...names.map((c) => `${c} µs (MB/s)`)];
const lines = PAYLOADS.map(([payload, buf]) => [payload, buf.length, ...names.map((c) => {
  const r = rows.find((x) => x.payload === payload && x.candidate === c);
  const worst = buf.length > 1e6 ? `, worst ${format(r.worstUs)}` : '';
  return `${format(r.usPerMessage)} (${r.mbPerSecond.toFixed(0)}${worst})`;
})]);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
const row = (cells) => `| ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
const table = [row(header), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...lines.map(row)].join('\n')
  + (SaxesParser === undefined ? '\n(saxes could not be imported: not measured; SAXES=/path/to/saxes.js)' : '')
  + `\nThe fast way took: ${PAYLOADS.map(([payload, buf]) => `${payload} ${readCanonical(buf, DEFAULT_XML_LIMITS) === undefined ? 'no' : 'yes'}`).join(', ')}.`
  + '\nSmall payloads: best of the batch medians; 5 MB: median of the runs, and the worst run (the event-loop pause).'
  + `\nNode ${process.version}, ${os.cpus().length} CPUs, load average ${loadBefore[0].toFixed(1)} before and ${os.loadavg()[0].toFixed(1)} after.`;

if (sink === -1) console.log(sink);
if (JSON_OUT) process.stdout.write(`${JSON.stringify({ rows, table })}\n`);
else console.log(table);
