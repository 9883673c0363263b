/**
 * A JSON array of any length, serialised in slices that give the event loop back: at 100,000 services the
 * list is ~40 MB and ~100-200 ms of JSON.stringify, which in one piece would hold every socket of the agent
 * (datagrams pile up, scrapes wait) that long. Pieces of about 64 KiB, never one string (V8 strings stop at
 * 512 MiB).
 */
import { TimeSlicer } from '../../metrics/time-slicer.js';

const PIECE_CHARS = 65_536;

export async function* slicedJsonChunks(
  prefix: string,
  items: Iterable<unknown>,
  suffix: string,
  slicer: TimeSlicer = new TimeSlicer(),
): AsyncGenerator<Buffer> {
  let part = prefix;
  let first = true;
  for (const item of items) {
    part += (first ? '' : ',') + JSON.stringify(item);
    first = false;
    if (part.length >= PIECE_CHARS) {
      yield Buffer.from(part);
      part = '';
    }
    if (slicer.due()) await slicer.yield();
  }
  yield Buffer.from(part + suffix);
}
