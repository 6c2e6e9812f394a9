/**
 * Finding a repeated field name in an sObject read the fast way (soap/canonical.ts), without
 * making a string for any name: the general way refuses a repeated field (soap/envelope.ts), so
 * the fast way must see one and decline.
 */
import { FIELD_SLOTS, F_NAME, F_NAME_END } from './canonical-shape.js';

/**
 * The set of field names of one sObject, to find a repeated one: open addressing on the names'
 * hashes, holding rows of the field table, so that no string is made for a name. Cleared by
 * moving to a new generation; grown (and refilled from the table) at half full.
 */
const GENERATION_MAX = 2 ** 31 - 1;

export class NameSet {
  #rows = new Int32Array(64);
  #generations = new Int32Array(64);
  #hashes = new Int32Array(64);
  #generation: number;
  #size = 0;

  /** `generation` is for tests: where the count starts. */
  constructor(generation = 1) {
    this.#generation = generation;
  }

  clear(): void {
    // Generations are stored as int32: the count starts again before one would not fit.
    if (++this.#generation === GENERATION_MAX) {
      this.#generations.fill(0);
      this.#generation = 1;
    }
    this.#size = 0;
  }

  /** Adds the name of field `row`; false if the set already holds it. */
  add(b: Uint8Array, fields: Int32Array, row: number, hash: number): boolean {
    if (2 * (this.#size + 1) > this.#rows.length) this.#grow(b, fields);
    const mask = this.#rows.length - 1;
    const from = fields[row * FIELD_SLOTS + F_NAME]!;
    const length = fields[row * FIELD_SLOTS + F_NAME_END]! - from;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      if (this.#generations[slot] !== this.#generation) {
        this.#generations[slot] = this.#generation;
        this.#rows[slot] = row;
        this.#hashes[slot] = hash;
        this.#size++;
        return true;
      }
      if (this.#hashes[slot] !== hash) continue;
      const other = this.#rows[slot]! * FIELD_SLOTS;
      const otherFrom = fields[other + F_NAME]!;
      if (fields[other + F_NAME_END]! - otherFrom !== length) continue;
      let same = true;
      for (let k = 0; same && k < length; k++) same = b[from + k] === b[otherFrom + k];
      if (same) return false;
    }
  }

  #grow(b: Uint8Array, fields: Int32Array): void {
    const rows = this.#rows;
    const generations = this.#generations;
    const hashes = this.#hashes;
    const size = rows.length * 2;
    this.#rows = new Int32Array(size);
    this.#generations = new Int32Array(size);
    this.#hashes = new Int32Array(size);
    const generation = this.#generation;
    this.#generation = 1;
    this.#size = 0;
    for (let slot = 0; slot < rows.length; slot++) {
      if (generations[slot] === generation) this.add(b, fields, rows[slot]!, hashes[slot]!);
    }
  }
}
