/**
 * A minimal, strict reader of HTTP/1.1 responses (RFC 9112) for the load generator: status line,
 * header fields, and a body framed by Content-Length, by chunked transfer coding, or by the
 * closing of the connection. Anything it does not expect is an error rather than a guess: a
 * malformed status line or field, conflicting Content-Length values, Transfer-Encoding other
 * than `chunked`, both framings at once (RFC 9112 §6.3: a sign of request smuggling), a 101.
 * Informational 1xx answers are skipped (§4: a client must accept them).
 *
 * Fed the bytes of one connection with push(); one response at a time (the client never
 * pipelines): reset() before each request.
 */

/** bytes: status line and fields (Node's server allows 16 KiB by default). */
const MAX_HEAD_BYTES = 64 * 1024;
/** bytes: the Ack and the error answers are small; a larger body means something is wrong. */
const MAX_BODY_BYTES = 16 * 2 ** 20;
/** bytes: a chunk-size line with its extensions, or one trailer field. */
const MAX_LINE_BYTES = 4096;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/;
/** field-name = token, then OWS, the value (no CTLs but HTAB), OWS (RFC 9110 §5.1, §5.5). */
const FIELD = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[\t ]*([\t\x20-\x7e\x80-\xff]*?)[\t ]*$/;
/** chunk-size [ chunk-ext ] (RFC 9112 §7.1); at most 12 hex digits, well over MAX_BODY_BYTES. */
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,12})(?:[\t ]*;[\t\x20-\x7e\x80-\xff]*)?$/;

const HEAD = 0;
const BODY = 1;
const UNTIL_CLOSE = 2;
const CHUNK_LINE = 3;
const CHUNK_DATA = 4;
const CHUNK_END = 5;
const TRAILERS = 6;
const DONE = 7;

const bad = (reason) => new Error(`bad response: ${reason}`);

export class ResponseReader {
  #state = HEAD;
  /** Bytes of an unfinished head or line, kept until the rest arrives. */
  #carry = null;
  #remaining = 0;
  #parts = [];
  #size = 0;
  status = 0;
  /** True when the connection cannot carry another request after this response. */
  close = false;

  reset() {
    this.#state = HEAD;
    this.#carry = null;
    this.#parts = [];
    this.#size = 0;
    this.status = 0;
    this.close = false;
  }

  /** True once the status line and fields are in (the body may still be coming). */
  get headDone() {
    return this.#state !== HEAD;
  }

  /** The body, once done. */
  body() {
    return this.#parts.length === 1 ? this.#parts[0] : Buffer.concat(this.#parts, this.#size);
  }

  /**
   * Reads `chunk`. Returns -1 while the response is incomplete; once it is complete, the number
   * of bytes of `chunk` after its end (bytes nobody asked for: the caller closes the connection).
   * Throws on a malformed response.
   */
  push(chunk) {
    let buf = chunk;
    if (this.#carry !== null) {
      buf = Buffer.concat([this.#carry, chunk]);
      this.#carry = null;
    }
    let at = 0;
    while (this.#state !== DONE && at < buf.length) {
      switch (this.#state) {
        case HEAD: {
          const end = buf.indexOf(HEAD_END, at);
          if (end === -1 || end - at > MAX_HEAD_BYTES) {
            if (buf.length - at > MAX_HEAD_BYTES) throw bad(`head over ${MAX_HEAD_BYTES} bytes`);
            this.#carry = buf.subarray(at);
            return -1;
          }
          this.#head(buf.toString('latin1', at, end));
          at = end + HEAD_END.length;
          break;
        }
        case BODY:
        case CHUNK_DATA: {
          const n = Math.min(this.#remaining, buf.length - at);
          this.#keep(buf.subarray(at, at + n));
          at += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = this.#state === BODY ? DONE : CHUNK_END;
          break;
        }
        case UNTIL_CLOSE:
          this.#keep(buf.subarray(at));
          at = buf.length;
          break;
        case CHUNK_END:
          if (buf.length - at < CRLF.length) {
            this.#carry = buf.subarray(at);
            return -1;
          }
          if (buf[at] !== 0x0d || buf[at + 1] !== 0x0a) throw bad('chunk not followed by CRLF');
          at += CRLF.length;
          this.#state = CHUNK_LINE;
          break;
        case CHUNK_LINE:
        case TRAILERS: {
          const eol = buf.indexOf(CRLF, at);
          if (eol === -1 || eol - at > MAX_LINE_BYTES) {
            if (buf.length - at > MAX_LINE_BYTES) throw bad('chunk-size or trailer line too long');
            this.#carry = buf.subarray(at);
            return -1;
          }
          const line = buf.toString('latin1', at, eol);
          at = eol + CRLF.length;
          if (this.#state === CHUNK_LINE) this.#chunkLine(line);
          else if (line === '') this.#state = DONE;
          else if (!FIELD.test(line)) throw bad('trailer field');
          break;
        }
        default:
          throw new Error(`response reader in state ${this.#state}`);
      }
    }
    return this.#state === DONE ? buf.length - at : -1;
  }

  /** The connection ended. True if that completes the response (a body framed by the close). */
  end() {
    if (this.#state === UNTIL_CLOSE) {
      this.#state = DONE;
      return true;
    }
    return this.#state === DONE;
  }

  #keep(part) {
    if (part.length === 0) return;
    this.#size += part.length;
    if (this.#size > MAX_BODY_BYTES) throw bad(`body over ${MAX_BODY_BYTES} bytes`);
    this.#parts.push(part);
  }

  #head(text) {
    const lines = text.split('\r\n');
    const status = STATUS_LINE.exec(lines[0]);
    if (status === null) throw bad(`status line ${JSON.stringify(lines[0].slice(0, 40))}`);
    const http10 = status[1] === '0';
    const code = Number(status[2]);
    let length = -1;
    let chunked = false;
    let close = http10;
    for (let i = 1; i < lines.length; i++) {
      const field = FIELD.exec(lines[i]);
      if (field === null) throw bad(`field ${JSON.stringify(lines[i].slice(0, 40))}`);
      const name = field[1];
      // Only Connection (10), Content-Length (14) and Transfer-Encoding (17) matter here.
      if (name.length !== 10 && name.length !== 14 && name.length !== 17) continue;
      const value = field[2];
      switch (name.toLowerCase()) {
        case 'content-length': {
          if (!/^\d{1,15}$/.test(value)) throw bad(`Content-Length ${JSON.stringify(value)}`);
          const n = Number(value);
          if (length !== -1 && length !== n) throw bad('conflicting Content-Length');
          length = n;
          break;
        }
        case 'transfer-encoding':
          if (chunked || value.toLowerCase() !== 'chunked') throw bad(`Transfer-Encoding ${JSON.stringify(value)}`);
          chunked = true;
          break;
        case 'connection': {
          const options = value.toLowerCase().split(',').map((o) => o.trim());
          if (options.includes('close')) close = true;
          else if (http10 && options.includes('keep-alive')) close = false;
          break;
        }
        default:
      }
    }
    if (chunked && length !== -1) throw bad('both Transfer-Encoding and Content-Length');
    if (chunked && http10) throw bad('chunked in HTTP/1.0');
    if (code === 101) throw bad('101 Switching Protocols: nothing was asked to switch');
    if (code < 200) return; // informational: the final response follows
    if (length > MAX_BODY_BYTES) throw bad(`Content-Length ${length} over ${MAX_BODY_BYTES}`);
    this.status = code;
    this.close = close;
    if (code === 204 || code === 304) this.#state = DONE;
    else if (chunked) this.#state = CHUNK_LINE;
    else if (length === 0) this.#state = DONE;
    else if (length > 0) {
      this.#remaining = length;
      this.#state = BODY;
    } else {
      this.#state = UNTIL_CLOSE;
      this.close = true;
    }
  }

  #chunkLine(line) {
    const m = CHUNK_SIZE.exec(line);
    if (m === null) throw bad(`chunk-size line ${JSON.stringify(line.slice(0, 40))}`);
    const size = Number.parseInt(m[1], 16);
    if (size === 0) {
      this.#state = TRAILERS;
      return;
    }
    if (this.#size + size > MAX_BODY_BYTES) throw bad(`body over ${MAX_BODY_BYTES} bytes`);
    this.#remaining = size;
    this.#state = CHUNK_DATA;
  }
}
