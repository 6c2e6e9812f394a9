/**
 * A latency histogram with logarithmic buckets 1 % wide: small, exact enough for p50/p99
 * (within 1 %), and mergeable across measurement rounds and processes (plain JSON).
 */
const STEP = Math.log(1.01);

export class LogHistogram {
  constructor(buckets = []) {
    /** bucket index → count */
    this.counts = new Map(buckets);
    this.count = 0;
    for (const [, n] of this.counts) this.count += n;
  }

  /** Records one value (any positive unit; the bench uses nanoseconds). */
  record(value) {
    const i = Math.floor(Math.log(Math.max(1, value)) / STEP);
    this.counts.set(i, (this.counts.get(i) ?? 0) + 1);
    this.count++;
  }

  merge(other) {
    for (const [i, n] of other.counts) this.counts.set(i, (this.counts.get(i) ?? 0) + n);
    this.count += other.count;
    return this;
  }

  /** The value at percentile `p` (0–100): the upper edge of its bucket; null when empty. */
  percentile(p) {
    if (this.count === 0) return null;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (const i of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(i);
      if (seen >= rank) return Math.exp((i + 1) * STEP);
    }
    return null;
  }

  toJSON() {
    return [...this.counts];
  }
}
