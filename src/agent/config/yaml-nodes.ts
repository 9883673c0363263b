/**
 * Finding places in the parsed YAML document. Validation works on plain JS values; these helpers map a key
 * path back to the node it came from so that every problem carries a line and column.
 */
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type Pair,
  type Scalar,
} from 'yaml';

export interface Place {
  line: number;
  col: number;
}

type Step = { key: Node | undefined; value: Node | undefined; container: Node };

/** The chain of nodes along `path` as far as it exists in the document. */
function resolve(doc: Document, path: readonly PropertyKey[]): { steps: Step[]; complete: boolean } {
  const root = doc.contents as Node | null;
  if (!root) return { steps: [], complete: false };
  const steps: Step[] = [{ key: undefined, value: root, container: root }];
  let node: Node | undefined = root;
  for (const part of path) {
    if (node && isAlias(node)) node = (node.resolve(doc) as Node | undefined) ?? undefined;
    if (node && isMap(node)) {
      const items: Pair[] = node.items as Pair[];
      const pair = items.find((p) => isScalar(p.key) && String(p.key.value) === String(part));
      if (!pair) return { steps, complete: false };
      const next: Node | undefined = (pair.value as Node | null) ?? undefined;
      steps.push({ key: pair.key as Node, value: next, container: node });
      node = next;
    } else if (node && isSeq(node) && typeof part === 'number') {
      const item = node.items[part] as Node | undefined;
      if (!item) return { steps, complete: false };
      steps.push({ key: undefined, value: item, container: node });
      node = item;
    } else {
      return { steps, complete: false };
    }
  }
  return { steps, complete: true };
}

function startOf(node: Node | undefined, lc: LineCounter): Place | undefined {
  const offset = node?.range?.[0];
  return offset === undefined ? undefined : lc.linePos(offset);
}

/**
 * Where to point for a problem at `path`. `at: 'value'` points at the value (wrong type, bad value);
 * `at: 'key'` points at the key itself (an unknown key). A path that does not exist in the file (a missing
 * key) points at the key of the nearest mapping that does, which is where the user has to add it.
 */
export function locate(
  doc: Document,
  lc: LineCounter,
  path: readonly PropertyKey[],
  at: 'value' | 'key' = 'value',
): Place {
  const { steps, complete } = resolve(doc, path);
  const last = steps[steps.length - 1];
  if (complete && last) {
    const preferred = at === 'key' ? (last.key ?? last.value) : (last.value ?? last.key);
    const place = startOf(preferred, lc) ?? startOf(last.key, lc) ?? startOf(last.container, lc);
    if (place) return place;
  }
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i]!;
    const place = startOf(s.key, lc) ?? startOf(s.value, lc);
    if (place) return place;
  }
  return { line: 1, col: 1 };
}

/** Calls `fn` for every scalar value (not keys) with its key path; aliases are skipped (their anchor is visited). */
export function visitValueScalars(
  node: unknown,
  path: PropertyKey[],
  fn: (scalar: Scalar, path: PropertyKey[]) => void,
): void {
  if (isScalar(node)) fn(node, path);
  else if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      visitValueScalars(pair.value, [...path, key], fn);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      visitValueScalars(item, [...path, i], fn);
    });
  }
}
