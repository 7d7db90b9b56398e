// The seam between the Hubble client and the correlate stage: a flow handler that asks
// a correlator (the stage's flow rules, or anything with the same signature) which
// constraints blocked the drop, bounded in time and isolated from its failures.
import type { Logger } from 'pino';
import type { Attribution } from '../../engine/model.js';
import type { FlowHandler } from './client.js';
import { hubbleMetrics } from './metrics.js';
import { flowKey, type NormalizedFlow } from './normalize.js';

export type FlowCorrelator = (flow: NormalizedFlow) => Promise<Attribution[]>;

export interface AttributeOptions {
  correlate: FlowCorrelator;
  onAttribution: (a: Attribution, flow: NormalizedFlow) => void;
  /** A drop nothing explains (not a policy drop, or no policy found). */
  onUnattributed?: (flow: NormalizedFlow) => void;
  /** Per-flow deadline for the correlator (default 2 s). */
  timeoutMs?: number;
  log?: Logger;
}

export function attributeFlows(opts: AttributeOptions): FlowHandler {
  const timeoutMs = opts.timeoutMs ?? 2000;
  return async (flow) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        opts.correlate(flow),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`correlation took over ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      if (result.length === 0) opts.onUnattributed?.(flow);
      for (const a of result) opts.onAttribution(a, flow);
    } catch (err) {
      hubbleMetrics.handlerErrors.inc();
      opts.log?.warn({ err: (err as Error).message, flow: flowKey(flow) }, 'could not attribute a dropped flow');
      opts.onUnattributed?.(flow);
    } finally {
      clearTimeout(timer);
    }
  };
}
