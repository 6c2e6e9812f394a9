/** Routes compiled into a Map by exact path (STYLE habit 4): no prefix or pattern matching. */
import type { RouteConfig } from '../config/types.js';

export class RouteTable {
  readonly #byPath: ReadonlyMap<string, RouteConfig>;

  constructor(routes: readonly RouteConfig[]) {
    this.#byPath = new Map(routes.map((r) => [r.path, r]));
  }

  /**
   * The route for a request target in origin-form. The path is compared byte for byte, without
   * percent-decoding or dot-segment removal, so `/a/%2e%2e/b` never reaches `/b`'s route. The
   * query string is ignored (it is never forwarded).
   */
  match(requestTarget: string | undefined): RouteConfig | undefined {
    if (!requestTarget || requestTarget[0] !== '/') return undefined;
    const q = requestTarget.indexOf('?');
    return this.#byPath.get(q === -1 ? requestTarget : requestTarget.slice(0, q));
  }
}
