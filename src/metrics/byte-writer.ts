/**
 * An append-only byte buffer for building a large response body without building it as a string first: at
 * 10,000 services /metrics is ~8 MB, and as a string it would be assembled from ~50,000 pieces, flattened and
 * then encoded to UTF-8 again by the HTTP layer. Grows by doubling.
 */
/** Chunks kept for reuse at most: a socket that keeps up gives each one back before the next is full. */
const MAX_SPARE = 4;

export class ByteWriter {
  #buf: Buffer;
  #off = 0;
  /** Chunks from take() given back by recycle(), to be written again. */
  readonly #spare: Buffer[] = [];

  constructor(initialBytes: number) {
    this.#buf = Buffer.allocUnsafeSlow(Math.max(64, Math.ceil(initialBytes)));
  }

  get length(): number {
    return this.#off;
  }

  #ensure(n: number): void {
    if (this.#off + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(this.#buf.length * 2, this.#off + n));
    this.#buf.copy(next, 0, 0, this.#off);
    this.#buf = next;
  }

  bytes(b: Uint8Array): void {
    this.#ensure(b.length);
    this.#buf.set(b, this.#off);
    this.#off += b.length;
  }

  /**
   * Bytes this writer already holds, from `start` to `end`, written again: a memory move inside the buffer, far
   * cheaper than encoding a string again.
   */
  again(start: number, end: number): void {
    this.#ensure(end - start);
    this.#buf.copyWithin(this.#off, start, end);
    this.#off += end - start;
  }

  /**
   * Text known to be ASCII (metric names, numbers, syntax), or bytes kept as a string of one byte per
   * character (Latin-1): one byte per character, no encoding pass.
   */
  ascii(s: string): void {
    this.#ensure(s.length);
    this.#off += this.#buf.write(s, this.#off, 'latin1');
  }

  /** Any text (already escaped and well-formed), as UTF-8. */
  utf8(s: string): void {
    this.#ensure(Buffer.byteLength(s, 'utf8'));
    this.#off += this.#buf.write(s, this.#off, 'utf8');
  }

  /** A little-endian IEEE 754 double (protobuf `double`, `fixed64` as a double). */
  f64(v: number): void {
    this.#ensure(8);
    this.#off = this.#buf.writeDoubleLE(v, this.#off);
  }

  /** A little-endian 64-bit integer (protobuf `fixed64`, `sfixed64`) from a whole number below 2^63. */
  i64(v: number): void {
    this.#ensure(8);
    if (v < 0) {
      this.#off = this.#buf.writeBigInt64LE(BigInt(v), this.#off);
      return;
    }
    // Two 32-bit halves, byte by byte: no BigInt per value on the common, non-negative path, and none of
    // writeUInt32LE's argument checks (the value is known to fit).
    const buf = this.#buf;
    let o = this.#off;
    const lo = v % 0x1_0000_0000;
    const hi = Math.floor(v / 0x1_0000_0000);
    buf[o++] = lo;
    buf[o++] = lo >>> 8;
    buf[o++] = lo >>> 16;
    buf[o++] = lo >>> 24;
    buf[o++] = hi;
    buf[o++] = hi >>> 8;
    buf[o++] = hi >>> 16;
    buf[o++] = hi >>> 24;
    this.#off = o;
  }

  /** A protobuf base-128 varint of a non-negative safe integer. */
  varint(v: number): void {
    this.#ensure(10);
    let n = v;
    while (n >= 0x80) {
      this.#buf[this.#off++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.#buf[this.#off++] = n;
  }

  byte(b: number): void {
    this.#ensure(1);
    this.#buf[this.#off++] = b;
  }

  /**
   * The bytes written so far, handed over (a streamed response keeps them until the socket takes them), and
   * a fresh buffer of the same size to go on with.
   */
  take(): Buffer {
    const done = this.#buf.subarray(0, this.#off);
    this.#buf = this.#spare.pop() ?? Buffer.allocUnsafeSlow(this.#buf.length);
    this.#off = 0;
    return done;
  }

  /**
   * Gives back a chunk from take() that its consumer is done with (the socket wrote it), so that a later take()
   * writes into it again. A fresh buffer per chunk made a 40 MiB body ~600 buffers outside the heap, whose
   * sum set off full garbage collections of the whole heap during every large scrape.
   */
  recycle(chunk: Buffer): void {
    const whole = chunk.buffer;
    if (chunk.byteOffset !== 0 || whole.byteLength !== this.#buf.length || this.#spare.length >= MAX_SPARE)
      return;
    this.#spare.push(Buffer.from(whole));
  }

  /**
   * Starts over at the first byte, with room for `bytes` (the buffer is kept when it is large enough): for a
   * sequence of messages of which only the last is still needed, such as the requests of one OTLP export.
   */
  reset(bytes: number): void {
    this.#off = 0;
    this.#ensure(bytes);
  }

  /** The bytes written, sharing memory with the writer (which must not be written to afterwards). */
  result(): Buffer {
    return this.#buf.subarray(0, this.#off);
  }
}
