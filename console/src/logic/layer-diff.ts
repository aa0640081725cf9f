/**
 * Two profile versions side by side: their layers matched by slot (the os and k8s layers by
 * type, CNI/CSI/add-on layers by type and pack), with what changed in each.
 */
export interface LayerLike {
  readonly type: string;
  readonly pack: string;
  readonly version: string;
  readonly image?: string;
  readonly values?: string;
  readonly [k: string]: unknown;
}

export type LayerChange = 'same' | 'added' | 'removed' | 'changed';

export interface LayerRow {
  readonly slot: string;
  readonly left?: LayerLike;
  readonly right?: LayerLike;
  readonly change: LayerChange;
  /** The fields that differ (pack, version, image, values, chart, …), for a changed layer. */
  readonly fields: readonly string[];
}

const slot = (l: LayerLike) => (l.type === 'os' || l.type === 'k8s' ? l.type : `${l.type}/${l.pack}`);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function diffLayers(left: readonly LayerLike[], right: readonly LayerLike[]): LayerRow[] {
  const rows: LayerRow[] = [];
  const rightBySlot = new Map(right.map((l) => [slot(l), l]));
  const seen = new Set<string>();
  for (const l of left) {
    const key = slot(l);
    seen.add(key);
    const r = rightBySlot.get(key);
    if (!r) { rows.push({ slot: key, left: l, change: 'removed', fields: [] }); continue; }
    const fields = [...new Set([...Object.keys(l), ...Object.keys(r)])].filter((f) => f !== 'type' && !same(l[f], r[f])).sort();
    rows.push({ slot: key, left: l, right: r, change: fields.length ? 'changed' : 'same', fields });
  }
  for (const r of right) if (!seen.has(slot(r))) rows.push({ slot: slot(r), right: r, change: 'added', fields: [] });
  return rows;
}
