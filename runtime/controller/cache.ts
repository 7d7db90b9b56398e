// A private object cache fed by an informer, for resources the controller reads for its
// own configuration (CRDs, ConstraintProfiles, rule-pack ConfigMaps, its reports). They
// stay out of the fact store: they are not policies, and adapters must never see them.
import type { InformerSink, RawObject } from '../kube/informer.js';

export interface CacheChange {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  key: string;
  object: RawObject;
}

export function keyOf(obj: RawObject): string {
  const md = (obj.metadata ?? {}) as { namespace?: string; name?: string };
  return md.namespace ? `${md.namespace}/${md.name ?? ''}` : (md.name ?? '');
}

function rv(obj: RawObject | undefined): string | undefined {
  return (obj?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
}

export class ObjectCache implements InformerSink {
  private readonly objects = new Map<string, RawObject>();

  /** `slim` keeps only what the owner needs of each object (big objects need not stay in memory whole). */
  constructor(
    private readonly onChange: (changes: CacheChange[]) => void,
    private readonly slim: (obj: RawObject) => RawObject = (o) => o,
  ) {}

  replace(raw: RawObject[]): void {
    const changes: CacheChange[] = [];
    const seen = new Set<string>();
    const items = raw.map(this.slim);
    for (const obj of items) {
      const k = keyOf(obj);
      seen.add(k);
      const old = this.objects.get(k);
      this.objects.set(k, obj);
      if (!old) changes.push({ type: 'ADDED', key: k, object: obj });
      else if (rv(old) !== rv(obj)) changes.push({ type: 'MODIFIED', key: k, object: obj });
    }
    for (const [k, obj] of [...this.objects]) {
      if (seen.has(k)) continue;
      this.objects.delete(k);
      changes.push({ type: 'DELETED', key: k, object: obj });
    }
    // An empty first list is still news: whoever waits for the cache learns it is ready.
    this.onChange(changes);
  }

  upsert(raw: RawObject): void {
    const obj = this.slim(raw);
    const k = keyOf(obj);
    const old = this.objects.get(k);
    if (old && rv(old) === rv(obj)) return;
    this.objects.set(k, obj);
    this.onChange([{ type: old ? 'MODIFIED' : 'ADDED', key: k, object: obj }]);
  }

  delete(raw: RawObject): void {
    const k = keyOf(raw);
    const old = this.objects.get(k);
    if (!old) return;
    this.objects.delete(k);
    this.onChange([{ type: 'DELETED', key: k, object: old }]);
  }

  get(key: string): RawObject | undefined {
    return this.objects.get(key);
  }

  list(): RawObject[] {
    return [...this.objects.values()];
  }

  get size(): number {
    return this.objects.size;
  }
}
