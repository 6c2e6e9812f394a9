/** `sfom-gateway send`: acts as Salesforce for smoke tests. Prints the status and the Ack. */
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import { CONTENT_TYPE_XML } from '../constants.js';
import { SAMPLE_NOTIFICATION } from '../demo/sample.js';
import { readSoapAck } from '../soap/ack.js';

export interface SendOptions {
  readonly url: string;
  readonly cert: string;
  readonly key: string;
  readonly ca?: string | undefined;
  readonly payload?: string | undefined;
}

export async function send(opts: SendOptions, out: (line: string) => void): Promise<number> {
  const url = new URL(opts.url);
  if (url.protocol !== 'https:') {
    out(`error: --url must be https (got ${url.protocol})`);
    return 2;
  }
  const [cert, key, ca, body] = await Promise.all([
    readFile(opts.cert, 'utf8'),
    readFile(opts.key, 'utf8'),
    opts.ca ? readFile(opts.ca, 'utf8') : Promise.resolve(undefined),
    opts.payload ? readFile(opts.payload) : Promise.resolve(Buffer.from(SAMPLE_NOTIFICATION)),
  ]);
  const answer = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    const req = https.request(url, {
      method: 'POST',
      cert,
      key,
      ...(ca ? { ca } : {}),
      agent: false,
      headers: { 'Content-Type': CONTENT_TYPE_XML, SOAPAction: '""', 'Content-Length': body.length },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(65_000, () => req.destroy(new Error('no answer within 65 s')));
    req.on('error', reject);
    req.end(body);
  });
  out(`status: ${answer.status}`);
  let ack: boolean | null = null;
  try {
    ack = readSoapAck(answer.body);
  } catch {
    const fault = /<faultstring>([^<]*)<\/faultstring>/.exec(answer.body.toString('utf8'));
    out(fault ? `fault: ${fault[1]}` : 'answer is not a SOAP Ack');
  }
  if (ack !== null) out(`ack: ${ack}`);
  return answer.status === 200 && ack === true ? 0 : 1;
}
