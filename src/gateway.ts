/**
 * Composition root: configuration → runtime → listener → pipeline → logs. `start()` binds, and
 * `close()` drains. Nothing here parses or decides: stages do.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DestinationStream, Logger } from 'pino';
import type { GatewayConfig } from './config/types.js';
import { GatewayError, type ErrorCode } from './errors.js';
import { UpstreamClient } from './forward/upstream.js';
import { BodyBuffers } from './http/body-buffers.js';
import { sendFault } from './http/respond.js';
import { Listener } from './net/listener.js';
import { DEFAULT_OVERLOAD_LIMITS, OverloadGuard, type OverloadLimits } from './net/overload.js';
import { GatewayEvents } from './observability/events.js';
import { subscribeLogs } from './observability/log-subscriber.js';
import { createLogger } from './observability/logger.js';
import { createMetrics, type GatewayMetrics } from './observability/metrics.js';
import { startAdmin, type AdminServer } from './admin/server.js';
import { expiryReport, logExpiry, scheduleDailyExpiryCheck } from './tls/expiry.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import type { RequestContext } from './pipeline/context.js';
import { decisionOf, runPipeline } from './pipeline/run.js';
import { createStages, type Stage } from './pipeline/stages.js';
import { compileRuntime, type Runtime } from './runtime.js';
import { DEFAULT_XML_LIMITS } from './soap/parser.js';
import { PreparePool } from './soap/worker-pool.js';

/** Session-ticket keys are replaced this often in a single process (the cluster primary does it for workers). */
const TICKET_KEY_ROTATION_MS = 60 * 60 * 1000;

export interface GatewayOptions {
  /** Where log lines go (default: stdout). Tests pass a sink stream. */
  readonly logDestination?: DestinationStream;
  readonly logger?: Logger;
  /** Start the admin listener when configured (default true; cluster workers leave it to the primary). */
  readonly serveAdmin?: boolean;
  /** Rotate TLS session-ticket keys hourly (default true; cluster workers get shared keys from the primary). */
  readonly rotateTicketKeys?: boolean;
  /** Overload thresholds (tests lower them to provoke shedding). */
  readonly overload?: OverloadLimits;
}

export class Gateway {
  readonly events = new GatewayEvents();
  readonly logger: Logger;
  readonly #upstream = new UpstreamClient();
  readonly #overload: OverloadGuard;
  readonly #preparePool = new PreparePool();
  readonly #stages: readonly Stage[];
  readonly #inFlight = new Set<RequestContext>();
  readonly #requestsOnSocket = new WeakMap<object, number>();
  readonly #listener: Listener;
  readonly metrics: GatewayMetrics;
  #admin: AdminServer | null = null;
  #dailyExpiry: { stop(): void } | null = null;
  #ticketRotation: NodeJS.Timeout | null = null;
  readonly #opts: GatewayOptions;
  #runtime: Runtime;
  #generation = 0;
  #closing: Promise<void> | null = null;

  constructor(config: GatewayConfig, opts: GatewayOptions = {}) {
    this.#opts = opts;
    this.logger = opts.logger ?? createLogger(config.log.level, opts.logDestination);
    this.#runtime = compileRuntime(config, this.#generation);
    this.#overload = new OverloadGuard(opts.overload ?? DEFAULT_OVERLOAD_LIMITS);
    this.#stages = createStages({
      upstream: this.#upstream, xmlLimits: DEFAULT_XML_LIMITS, overload: this.#overload, preparePool: this.#preparePool,
      bodyBuffers: new BodyBuffers(),
    });
    subscribeLogs(this.events, this.logger);
    this.metrics = createMetrics(this.events, { routes: () => this.#runtime.config.routes });
    this.#listener = new Listener({
      runtime: () => this.#runtime,
      events: this.events,
      onRequest: (req, res) => this.#onRequest(req, res),
      onClientError: (code, remoteAddress, detail, requestId) => this.#onClientError(code, remoteAddress, detail, requestId),
    });
  }

  get config(): GatewayConfig {
    return this.#runtime.config;
  }

  /** Binds the listener; resolves with the bound address (port 0 picks a free one). */
  async start(): Promise<AddressInfo> {
    const { host, port } = this.#runtime.config.listen;
    const address = await this.#listener.listen(host, port);
    this.logger.info({ event: 'listening', host: address.address, port: address.port }, 'gateway listening');
    const { admin } = this.#runtime.config;
    if (this.#opts.rotateTicketKeys !== false) {
      this.#ticketRotation = setInterval(() => this.setTicketKeys(randomBytes(48)), TICKET_KEY_ROTATION_MS);
      this.#ticketRotation.unref();
    }
    if (admin && this.#opts.serveAdmin !== false) {
      this.#admin = await startAdmin({
        host: admin.host, port: admin.port, allowRemote: admin.allowRemote,
        ready: () => this.ready, metrics: this.metrics,
      });
      this.logger.info({ event: 'admin_listening', host: admin.host, port: this.#admin.port }, 'admin listener on');
    }
    this.#checkExpiry();
    this.#dailyExpiry = scheduleDailyExpiryCheck(() => this.#checkExpiry());
    return address;
  }

  /** Replaces the TLS session-ticket keys (48 bytes); tickets under the old keys no longer resume. */
  setTicketKeys(keys: Buffer): void {
    this.#listener.setTicketKeys(keys);
  }

  /** The admin listener's port, when configured. */
  get adminPort(): number | null {
    return this.#admin?.port ?? null;
  }

  /** Logs certificates that expire within tls.expiryWarningDays and refreshes the expiry gauge. */
  #checkExpiry(): void {
    const config = this.#runtime.config;
    logExpiry(expiryReport(config, new Date()), this.logger);
    this.metrics.setCertificates(config);
  }

  /**
   * Reload: `load` reads and validates the whole configuration first. On any problem the old
   * configuration keeps serving, every problem is logged with its key path, and nothing is
   * applied. Otherwise it is swapped in at once (see applyConfig).
   */
  async reload(load: () => Promise<GatewayConfig>): Promise<{ ok: true; restartNeeded: string[] } | { ok: false; problems: readonly ConfigProblem[] }> {
    let next: GatewayConfig;
    try {
      next = await load();
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [{ path: '(file)', message: 'could not be loaded' }];
      this.metrics.recordReload('failure');
      this.logger.error({ event: 'reload', result: 'failure', problems }, 'reload refused: the previous configuration stays in force');
      return { ok: false, problems };
    }
    const { restartNeeded } = this.applyConfig(next);
    this.metrics.recordReload('success');
    this.logger.info({ event: 'reload', result: 'success', restartNeeded, generation: this.#generation },
      restartNeeded.length ? `configuration reloaded; a restart is needed for: ${restartNeeded.join(', ')}` : 'configuration reloaded');
    this.#checkExpiry();
    return { ok: true, restartNeeded };
  }

  address(): AddressInfo | null {
    return this.#listener.address();
  }

  get openConnections(): number {
    return this.#listener.openConnections;
  }

  get ready(): boolean {
    return this.#listener.listening && this.#closing === null;
  }

  /**
   * Swaps in a new, already validated configuration: TLS material through setSecureContext, the
   * rest for new requests; in-flight requests keep the runtime they started with.
   * Returns the settings that only a restart can change.
   */
  applyConfig(config: GatewayConfig): { restartNeeded: string[] } {
    const old = this.#runtime.config;
    const restartNeeded: string[] = [];
    if (old.listen.host !== config.listen.host || old.listen.port !== config.listen.port) restartNeeded.push('listen');
    if (old.limits.handshakeTimeoutMs !== config.limits.handshakeTimeoutMs) restartNeeded.push('limits.handshakeTimeoutMs');
    if (JSON.stringify(old.admin) !== JSON.stringify(config.admin)) restartNeeded.push('admin');
    if (old.workers !== config.workers) restartNeeded.push('workers');
    if (old.log.level !== config.log.level) this.logger.level = config.log.level;
    const next = compileRuntime(config, ++this.#generation);
    this.#listener.setSecureContext(config.tls);
    this.#listener.applyLimits(config.limits);
    this.#runtime = next;
    return { restartNeeded };
  }

  /**
   * Graceful stop: stop accepting, let in-flight requests finish for up to `graceMs`, answer the
   * rest 503 with a fault (Salesforce retries them), then close every connection.
   */
  close(graceMs: number = this.#runtime.config.limits.shutdownGraceMs): Promise<void> {
    this.#closing ??= this.#drain(graceMs);
    return this.#closing;
  }

  async #drain(graceMs: number): Promise<void> {
    const stopped = this.#listener.stopAccepting();
    const deadline = Date.now() + graceMs;
    while (this.#inFlight.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const ctx of this.#inFlight) {
      if (ctx.res.headersSent) continue;
      sendFault(ctx.res, 'GW_ERR_SHUTTING_DOWN', ctx.requestId, true);
      this.events.emit('request', decisionOf(ctx, new GatewayError('GW_ERR_SHUTTING_DOWN')));
    }
    this.#listener.destroyAll();
    await stopped;
    await this.#upstream.close();
    this.#overload.close();
    await this.#preparePool.close();
    this.#dailyExpiry?.stop();
    if (this.#ticketRotation) clearInterval(this.#ticketRotation);
    await this.#admin?.close();
    this.metrics.close();
    this.logger.info({ event: 'stopped', unfinished: this.#inFlight.size }, 'gateway stopped');
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    // maxRequestsPerSocket is counted here rather than by Node, whose answer past the limit is
    // a bare 503 instead of a SOAP fault, and which leaves the connection open.
    const served = (this.#requestsOnSocket.get(req.socket) ?? 0) + 1;
    this.#requestsOnSocket.set(req.socket, served);
    const ctx: RequestContext = {
      requestId: randomUUID(),
      req,
      res,
      runtime: this.#runtime,
      remoteAddress: req.socket.remoteAddress ?? '',
      startedAt: performance.now(),
      lastOnConnection: served >= this.#runtime.config.limits.maxRequestsPerSocket,
      positionOnConnection: served - 1,
      clientCertFingerprint: null,
      route: null,
      body: null,
      bodyConsumed: false,
      message: null,
      summary: null,
      forwardBody: null,
      parseWay: null,
      upstreamStatus: null,
      upstreamDurationMs: null,
      ack: null,
      releaseBuffer: null,
    };
    if (this.#closing) {
      sendFault(res, 'GW_ERR_SHUTTING_DOWN', ctx.requestId, true);
      this.events.emit('request', decisionOf(ctx, new GatewayError('GW_ERR_SHUTTING_DOWN')));
      return;
    }
    this.#inFlight.add(ctx);
    void runPipeline(ctx, this.#stages, this.events).finally(() => {
      ctx.releaseBuffer?.();
      this.#inFlight.delete(ctx);
    });
  }

  #onClientError(code: ErrorCode, remoteAddress: string, detail: string, requestId: string): void {
    this.events.emit('request', {
      requestId,
      outcome: 'rejected',
      reason: code,
      status: new GatewayError(code).status,
      remoteAddress,
      clientCertFingerprint: null,
      route: null,
      organizationId: null,
      actionId: null,
      notificationCount: null,
      parseWay: null,
      upstreamStatus: null,
      durationMs: 0,
      upstreamDurationMs: null,
      detail,
    });
  }
}
