/**
 * The request pipeline: a readonly, ordered list of named stages (httpxy's passes). A stage halts
 * the request by throwing a GatewayError; pipeline/run.ts turns that into the answer. The order is
 * the contract: client identity → head → method → route → media type → encoding → body → parse
 * (validate the envelope, rebuild the sanitized body from it) → policy → summarize → forward → Ack.
 */
import type { TLSSocket } from 'node:tls';
import { CONTENT_TYPE_JSON, CONTENT_TYPE_XML } from '../constants.js';
import { GatewayError } from '../errors.js';
import { relayAck } from '../forward/relay-ack.js';
import type { UpstreamClient } from '../forward/upstream.js';
import type { BodyBuffers } from '../http/body-buffers.js';
import { checkContentEncoding, checkHead, checkMediaType, checkMethod } from '../http/limits.js';
import { readBody } from '../http/read-body.js';
import { checkMessagePolicy } from '../policy/message.js';
import { prepareMessage, type Prepared } from '../soap/prepare.js';
import { OFFLOAD_MIN_BYTES, type PreparePool } from '../soap/worker-pool.js';
import type { XmlLimits } from '../soap/types.js';
import type { OverloadGuard } from '../net/overload.js';
import { readPeerLeaf, type IdentityResult } from '../tls/client-identity.js';
import { checkAnswerable, enterConnection } from './connection.js';
import type { RequestContext } from './context.js';
import { messageSummary } from './summary.js';

export interface Stage {
  readonly name: string;
  run(ctx: RequestContext): void | Promise<void>;
}

export interface StageDeps {
  readonly upstream: UpstreamClient;
  readonly xmlLimits: XmlLimits;
  readonly overload: OverloadGuard;
  readonly preparePool: PreparePool;
  readonly bodyBuffers: BodyBuffers;
}

/** Identity decisions cached per connection and configuration generation. */
const identityCache = new WeakMap<TLSSocket, { generation: number; result: IdentityResult }>();

function takePrepared(ctx: RequestContext, prepared: Prepared): void {
  ctx.message = prepared.message;
  ctx.forwardBody = prepared.forwardBody;
  ctx.parseWay = prepared.way;
}

export function createStages(deps: StageDeps): readonly Stage[] {
  return Object.freeze([
    {
      // Synchronous and first: it numbers pipelined requests in the order Node emits them.
      name: 'connection',
      run: (ctx) => enterConnection(ctx),
    },
    {
      // Cheap: an overloaded gateway does as little as possible before saying 503.
      name: 'admission',
      run(ctx) {
        const reason = deps.overload.reason();
        if (reason) throw new GatewayError('GW_ERR_OVERLOADED', reason);
      },
    },
    {
      name: 'clientIdentity',
      run(ctx) {
        const socket = ctx.req.socket as TLSSocket;
        let cached = identityCache.get(socket);
        if (!cached || cached.generation !== ctx.runtime.generation) {
          // Asked on every connection, resumed sessions too; no certificate → denied.
          cached = { generation: ctx.runtime.generation, result: ctx.runtime.identity.check(readPeerLeaf(socket)) };
          identityCache.set(socket, cached);
        }
        ctx.clientCertFingerprint = cached.result.fingerprint256;
        if (!cached.result.ok) throw new GatewayError('GW_ERR_CLIENT_CERT_DENIED', cached.result.reason);
      },
    },
    { name: 'head', run: (ctx) => checkHead(ctx.req) },
    { name: 'method', run: (ctx) => checkMethod(ctx.req) },
    {
      name: 'route',
      run(ctx) {
        const route = ctx.runtime.routes.match(ctx.req.url);
        if (!route) throw new GatewayError('GW_ERR_NOT_FOUND');
        ctx.route = route;
      },
    },
    { name: 'mediaType', run: (ctx) => checkMediaType(ctx.req) },
    { name: 'contentEncoding', run: (ctx) => checkContentEncoding(ctx.req) },
    {
      name: 'body',
      async run(ctx) {
        const { maxBodyBytes } = ctx.runtime.config.limits;
        const declared = Number(ctx.req.headers['content-length'] ?? Number.NaN);
        const release = deps.overload.reserve(Number.isSafeInteger(declared) && declared >= 0 && declared <= maxBodyBytes ? declared : maxBodyBytes);
        if (!release) throw new GatewayError('GW_ERR_OVERLOADED', 'buffered request bodies over budget');
        ctx.releaseBuffer = release;
        const body = await readBody(ctx.req, ctx.res, maxBodyBytes, deps.bodyBuffers);
        // Given back when the request ends, not before: the message's parts may point into it
        // until the forward stage has copied them (http/body-buffers.ts).
        ctx.releaseBuffer = () => {
          release();
          deps.bodyBuffers.give(body);
        };
        ctx.body = body;
        ctx.bodyConsumed = true;
      },
    },
    {
      // Parse, validate and rebuild: the sanitized body is written here, from the validated
      // message only (soap/prepare.ts), and goes on only if policy lets the message through.
      name: 'parse',
      run(ctx) {
        const body = ctx.body as Buffer;
        // Only the validated message goes on (the rebuilt body may share bytes of it that were
        // checked to be exactly what the writer would write: soap/prepare.ts).
        ctx.body = null;
        const route = ctx.route!;
        const opts = { format: route.format, forwardSessionId: route.forwardSessionId, limits: deps.xmlLimits };
        // Large: in the worker thread, off the event loop. Otherwise at once, with no promise.
        if (body.length >= OFFLOAD_MIN_BYTES) return deps.preparePool.prepare(body, opts).then((prepared) => { takePrepared(ctx, prepared); });
        takePrepared(ctx, prepareMessage(body, opts));
      },
    },
    {
      name: 'policy',
      run(ctx) {
        checkMessagePolicy(ctx.message!, ctx.route!, ctx.runtime.config);
      },
    },
    {
      // What the request keeps of its message while it waits on the internal service.
      name: 'summarize',
      run(ctx) {
        ctx.summary = messageSummary(ctx.message!);
        ctx.message = null;
      },
    },
    {
      name: 'forward',
      async run(ctx) {
        const route = ctx.route!;
        // The point of no return: nothing is forwarded that cannot be answered.
        checkAnswerable(ctx);
        const started = performance.now();
        try {
          const sent = deps.upstream.send({
            target: route.target,
            body: ctx.forwardBody!,
            contentType: route.format === 'soap' ? CONTENT_TYPE_XML : CONTENT_TYPE_JSON,
            requestId: ctx.requestId,
            timeoutMs: route.timeoutMs,
            ...(route.format === 'soap' ? { soapAction: '""' } : {}),
          });
          // send() has copied the body (forward/upstream.ts): it may point into the received
          // buffer, which is reused once the request ends.
          ctx.forwardBody = null;
          const answer = await sent;
          ctx.upstreamStatus = answer.status;
          ctx.ack = relayAck(route.format, answer);
        } finally {
          ctx.upstreamDurationMs = performance.now() - started;
        }
      },
    },
  ] satisfies Stage[]);
}
