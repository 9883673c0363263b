/**
 * A bounded first-in first-out store of datagrams whose bytes live outside the JavaScript heap: one buffer
 * for the bytes, typed arrays for where each one starts, its length and when it was read, and only the sender's
 * address as a string. Datagrams held for a while outlive young-generation collections; as Buffers and rinfo
 * objects they were promoted one by one (a queue full under a sustained overload promoted every datagram and
 * took the process from ~70 to ~160–300 MiB), here they cost the collector almost nothing.
 *
 * The bytes wrap around: a datagram that does not fit before the end of the buffer starts again at 0, after
 * the oldest one held. Storage is allocated at the first datagram held, not before: most listeners never hold
 * one.
 */
import type { RemoteInfo } from 'node:dgram';

export type Take = (msg: Buffer, rinfo: RemoteInfo, nowMonoMs: number) => void;

export class DatagramRing {
  readonly maxDatagrams: number;
  readonly maxBytes: number;
  #bytes: Buffer | undefined;
  #start = new Int32Array(0);
  #size = new Int32Array(0);
  #time = new Float64Array(0);
  #port = new Int32Array(0);
  #family: ('IPv4' | 'IPv6')[] = [];
  #address: string[] = [];
  /** Index of the oldest datagram held, and how many are held. */
  #head = 0;
  #count = 0;
  /** Where the next datagram's bytes go. */
  #write = 0;
  /** Set while the newest bytes start over at 0, before the oldest's: from the datagram at #wrapAt on. */
  #wrapped = false;
  #wrapAt = 0;

  constructor(maxDatagrams: number, maxBytes: number) {
    this.maxDatagrams = maxDatagrams;
    this.maxBytes = maxBytes;
  }

  get length(): number {
    return this.#count;
  }

  /** Holds a copy of `msg`; false when there is no room (the caller takes the oldest first, then retries). */
  push(msg: Buffer, rinfo: RemoteInfo, nowMonoMs: number): boolean {
    const n = msg.length;
    if (this.#count >= this.maxDatagrams || n > this.maxBytes) return false;
    if (this.#bytes === undefined) this.#allocate();
    const at = this.#room(n);
    if (at < 0) return false;
    const bytes = this.#bytes as Buffer;
    bytes.set(msg, at);
    const i = (this.#head + this.#count) % this.maxDatagrams;
    // Placed before the newest bytes while they had not wrapped: they start over at 0 from here.
    if (!this.#wrapped && this.#count > 0 && at < this.#write) {
      this.#wrapped = true;
      this.#wrapAt = i;
    }
    this.#start[i] = at;
    this.#size[i] = n;
    this.#time[i] = nowMonoMs;
    this.#port[i] = rinfo.port;
    this.#family[i] = rinfo.family;
    this.#address[i] = rinfo.address;
    this.#count++;
    this.#write = at + n;
    return true;
  }

  /** Passes the oldest datagram to `take` (a view of the stored bytes, valid until the next push). */
  shift(take: Take): void {
    if (this.#count === 0) return;
    const i = this.#head;
    const start = this.#start[i] as number;
    const size = this.#size[i] as number;
    const msg = (this.#bytes as Buffer).subarray(start, start + size);
    const rinfo: RemoteInfo = {
      address: this.#address[i] as string,
      family: this.#family[i] as 'IPv4' | 'IPv6',
      port: this.#port[i] as number,
      size,
    };
    const time = this.#time[i] as number;
    this.#address[i] = '';
    this.#head = (i + 1) % this.maxDatagrams;
    this.#count--;
    if (this.#wrapped && this.#head === this.#wrapAt) this.#wrapped = false;
    if (this.#count === 0) {
      this.#head = 0;
      this.#write = 0;
      this.#wrapped = false;
    }
    take(msg, rinfo, time);
  }

  #allocate(): void {
    this.#bytes = Buffer.allocUnsafeSlow(this.maxBytes);
    const n = this.maxDatagrams;
    this.#start = new Int32Array(n);
    this.#size = new Int32Array(n);
    this.#time = new Float64Array(n);
    this.#port = new Int32Array(n);
    this.#family = new Array(n).fill('IPv4');
    this.#address = new Array(n).fill('');
  }

  /** Where `n` bytes fit without overwriting a datagram still held, or -1. */
  #room(n: number): number {
    if (this.#count === 0) return 0;
    const oldest = this.#start[this.#head] as number;
    const w = this.#write;
    if (!this.#wrapped) {
      // Held bytes run from `oldest` to `w`: room after them, or from 0 up to the oldest.
      if (w + n <= this.maxBytes) return w;
      return n > oldest ? -1 : 0;
    }
    // Held bytes run from `oldest` towards the end, and from 0 to `w`.
    return w + n <= oldest ? w : -1;
  }
}
