// The engine's Analyzer, timed: every adaptation feeds potoo_adapt_duration_seconds.
import { Analyzer } from '../../engine/analyzer.js';
import type { Gvr, KubeObject } from '../../engine/model.js';
import type { CompiledPack } from '../../engine/pack/loader.js';
import type { FactStore } from '../../engine/store/store.js';
import { gvrKey } from '../../engine/gvr.js';
import type { Metrics } from '../metrics.js';

export class TimedAnalyzer extends Analyzer {
  constructor(
    store: FactStore,
    packs: readonly CompiledPack[],
    private readonly metrics: Metrics | undefined,
  ) {
    super(store, packs);
  }

  override async adaptObject(gvr: Gvr, obj: KubeObject): Promise<void> {
    const t0 = performance.now();
    await super.adaptObject(gvr, obj);
    this.metrics?.adaptDuration.observe({ gvr: gvrKey(gvr) }, (performance.now() - t0) / 1000);
  }
}
