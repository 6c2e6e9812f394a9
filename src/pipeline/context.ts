/** Everything one request carries through the stages. Stages fill it in order. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteConfig } from '../config/types.js';
import type { ForwardBody } from '../forward/upstream.js';
import type { Runtime } from '../runtime.js';
import type { ParseWay } from '../soap/prepare.js';
import type { MessageHead } from '../soap/types.js';
import type { MessageSummary } from './summary.js';

export interface RequestContext {
  readonly requestId: string;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The configuration this request started under (kept across a reload). */
  readonly runtime: Runtime;
  readonly remoteAddress: string;
  readonly startedAt: number;
  /** The last request this connection may carry (maxRequestsPerSocket): answer with Connection: close. */
  readonly lastOnConnection: boolean;
  /** 0 for the first request on its connection, in the order Node emitted them (pipelining). */
  readonly positionOnConnection: number;
  clientCertFingerprint: string | null;
  route: RouteConfig | null;
  body: Buffer | null;
  /** True once the body has been read to its end (a keep-alive connection can then be reused). */
  bodyConsumed: boolean;
  /** The validated message's head, from the parse stage to the sanitize stage. */
  message: MessageHead | null;
  /** What is kept of the message after that (pipeline/summary.ts). */
  summary: MessageSummary | null;
  forwardBody: ForwardBody | null;
  /** Which reader took the message (soap/prepare.ts), once it is read. */
  parseWay: ParseWay | null;
  upstreamStatus: number | null;
  upstreamDurationMs: number | null;
  ack: boolean | null;
  /** Returns the body's reservation to the overload guard; called when the request ends. */
  releaseBuffer: (() => void) | null;
}
