/**
 * The HTTP checks that run before a byte of the body is read, in the order the answers are
 * specified: method (405), route (404), media type (415), content coding (415). SOAPAction is
 * not checked: Salesforce's value is undocumented and it carries no authority.
 */
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors.js';

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
