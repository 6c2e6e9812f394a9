/**
 * The only writers of answers to Salesforce: a SOAP Ack, or a SOAP 1.1 Fault whose faultstring
 * starts with the stable reason code. Answers carry no Server header and are never cached.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { CONTENT_TYPE_XML } from '../constants.js';
import { ERRORS, type ErrorCode } from '../errors.js';
import { ackEnvelope, faultEnvelope } from '../soap/ack.js';

const ACK_TRUE = Buffer.from(ackEnvelope(true));
const ACK_FALSE = Buffer.from(ackEnvelope(false));
const FAULTS = new Map<ErrorCode, Buffer>(
  (Object.keys(ERRORS) as ErrorCode[]).map((code) => [code, Buffer.from(faultEnvelope(code))]),
);

function write(res: ServerResponse, status: number, body: Buffer, requestId: string, close: boolean): void {
  if (res.headersSent || res.destroyed) return;
  // One writeHead rather than a setHeader each: Node then writes the head straight from this
  // object (merged with any header set earlier, such as the listener's Connection: close).
  const headers: OutgoingHttpHeaders = {
    'Content-Type': CONTENT_TYPE_XML,
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'X-Request-Id': requestId,
  };
  if (close) headers.Connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

/** @param close the last answer on this connection (maxRequestsPerSocket reached). */
export function sendAck(res: ServerResponse, ack: boolean, requestId: string, close = false): void {
  write(res, 200, ack ? ACK_TRUE : ACK_FALSE, requestId, close);
}

/** @param close ask Node to close the connection after the answer (a body left unread, a bad peer). */
export function sendFault(res: ServerResponse, code: ErrorCode, requestId: string, close: boolean): void {
  write(res, ERRORS[code].status, FAULTS.get(code) as Buffer, requestId, close);
}

/** A fault written on a raw socket, for errors Node's HTTP parser raises before a request exists. */
export function rawFault(code: ErrorCode): string {
  const body = FAULTS.get(code) as Buffer;
  const { status } = ERRORS[code];
  return `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: ${CONTENT_TYPE_XML}\r\n` +
    `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.toString()}`;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request', 405: 'Method Not Allowed', 408: 'Request Timeout', 413: 'Payload Too Large', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 503: 'Service Unavailable',
};
