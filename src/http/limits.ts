/**
 * The HTTP checks that run before a byte of the body is read, in the order the answers are
 * specified: the head as a whole (431), method (405), route (404), media type (415), content
 * coding (415). SOAPAction is
 * not checked: Salesforce's value is undocumented and it carries no authority.
 */
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors.js';

/**
 * Most header fields in a request head; Salesforce sends about ten. The https server keeps one
 * more than this (maxHeadersCount), so that a head over the limit can be told from one at it:
 * Node drops the fields past maxHeadersCount silently, and a dropped Content-Type would be
 * misread as missing.
 */
export const MAX_HEADER_COUNT = 100;

/**
 * Refuses a head with more than MAX_HEADER_COUNT fields (431, like one too large in bytes), an
 * HTTP/1.1 request without exactly one Host (RFC 9112 section 3.2: "MUST respond with 400"), and
 * an expectation other than 100-continue (400).
 * The Host check is the gateway's, not Node's (requireHostHeader is off), so that the refusal is
 * a fault with its code and a log line rather than Node's bare 400.
 */
export function checkHead(req: IncomingMessage): void {
  const raw = req.rawHeaders;
  if (raw.length > 2 * MAX_HEADER_COUNT) {
    throw new GatewayError('GW_ERR_HEADERS_TOO_LARGE', `more than ${MAX_HEADER_COUNT} header fields`);
  }
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() === 'host') hosts++;
  }
  if (hosts > 1 || (hosts === 0 && req.httpVersion !== '1.0')) {
    throw new GatewayError('GW_ERR_BAD_REQUEST', `${hosts} Host header fields`);
  }
  // RFC 9110 section 10.1.1: 100-continue is the only expectation defined; any other one
  // cannot be met. (Node would answer a bare 417 itself; the listener hands these requests here.)
  const expect = req.headers.expect;
  if (expect !== undefined && expect.trim().toLowerCase() !== '100-continue') {
    throw new GatewayError('GW_ERR_BAD_REQUEST', 'unsupported Expect');
  }
}

export function checkMethod(req: IncomingMessage): void {
  if (req.method !== 'POST') throw new GatewayError('GW_ERR_METHOD_NOT_ALLOWED', `method ${req.method ?? ''}`);
}

/** `text/xml` with any parameters (charset is checked by the parser: the body must be UTF-8). */
export function checkMediaType(req: IncomingMessage): void {
  const value = req.headers['content-type'];
  const mediaType = value?.split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType !== 'text/xml') throw new GatewayError('GW_ERR_UNSUPPORTED_MEDIA_TYPE');
}

/** Any Content-Encoding is refused: a compressed body would defeat the size cap (zip bombs). */
export function checkContentEncoding(req: IncomingMessage): void {
  const value = req.headers['content-encoding'];
  if (value !== undefined && value.trim() !== '') throw new GatewayError('GW_ERR_CONTENT_ENCODING');
}
