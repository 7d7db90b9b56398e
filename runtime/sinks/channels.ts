// Channels as configuration: a name, a type and where its secrets are. The notify stage
// routes deliveries to channel names; this builds the sink behind each name.
import type { EventSink } from './events.js';
import type { SecretResolver, SecretSource } from './secrets.js';
import { SlackSink } from './slack.js';
import { TeamsSink } from './teams.js';
import type { ChannelType, Sink } from './types.js';
import { WebhookSink } from './webhook.js';

export type ChannelConfig =
  | { name: string; type: 'slack'; url: SecretSource; timeoutMs?: number }
  | { name: string; type: 'teams'; url: SecretSource; timeoutMs?: number }
  | { name: string; type: 'webhook'; url: SecretSource; hmacKey?: SecretSource; headers?: Record<string, string>; timeoutMs?: number }
  | { name: string; type: 'kubernetes-event' };

export const CHANNEL_TYPES: readonly ChannelType[] = ['slack', 'teams', 'webhook', 'kubernetes-event'];

export interface SinkDeps {
  secrets: Pick<SecretResolver, 'resolve'>;
  /** Shared by every kubernetes-event channel (one series cache). */
  events?: EventSink;
}

/** Build one sink per channel; a channel that cannot be built is reported, the rest are kept. */
export function buildSinks(configs: readonly ChannelConfig[], deps: SinkDeps): { sinks: Map<string, Sink>; errors: string[] } {
  const sinks = new Map<string, Sink>();
  const errors: string[] = [];
  for (const c of configs) {
    if (sinks.has(c.name)) {
      errors.push(`channel ${c.name} is defined twice; the first definition is used`);
      continue;
    }
    switch (c.type) {
      case 'slack':
        sinks.set(c.name, new SlackSink(c.url, deps.secrets, { name: c.name, ...(c.timeoutMs ? { timeoutMs: c.timeoutMs } : {}) }));
        break;
      case 'teams':
        sinks.set(c.name, new TeamsSink(c.url, deps.secrets, { name: c.name, ...(c.timeoutMs ? { timeoutMs: c.timeoutMs } : {}) }));
        break;
      case 'webhook':
        sinks.set(
          c.name,
          new WebhookSink(c.url, deps.secrets, {
            name: c.name,
            ...(c.timeoutMs ? { timeoutMs: c.timeoutMs } : {}),
            ...(c.hmacKey ? { hmacKey: c.hmacKey } : {}),
            ...(c.headers ? { headers: c.headers } : {}),
          }),
        );
        break;
      case 'kubernetes-event':
        if (!deps.events) errors.push(`channel ${c.name}: Kubernetes Events need an API client`);
        else sinks.set(c.name, deps.events);
        break;
      default:
        errors.push(`channel ${(c as { name: string }).name}: unknown type ${(c as { type: string }).type}; use one of ${CHANNEL_TYPES.join(', ')}`);
    }
  }
  return { sinks, errors };
}
