// Microsoft Teams through a Workflows ("Post to a channel when a webhook request is
// received") webhook: a message whose attachment is an Adaptive Card. The retired
// Office 365 connectors took MessageCard; Workflows do not.
import { UrlSink } from './http.js';
import type { Notification } from './types.js';

const COLOR: Record<string, string> = { Critical: 'Attention', Warning: 'Warning', Info: 'Accent' };

export interface AdaptiveCardMessage {
  type: 'message';
  attachments: { contentType: 'application/vnd.microsoft.card.adaptive'; contentUrl: null; content: Record<string, unknown> }[];
}

export function teamsMessage(n: Notification): AdaptiveCardMessage {
  const where = n.regarding ? `${n.regarding.kind} ${n.regarding.namespace ? `${n.regarding.namespace}/` : ''}${n.regarding.name}` : n.namespace ? `namespace ${n.namespace}` : 'cluster';
  const facts = [
    { title: 'Severity', value: n.severity },
    { title: n.regarding ? 'Workload' : 'Scope', value: where },
    ...(n.facts ?? []).map((f) => ({ title: f.name, value: f.value })),
  ];
  const body: Record<string, unknown>[] = [
    { type: 'TextBlock', text: `${n.severity}: ${n.title}`, weight: 'Bolder', size: 'Medium', color: COLOR[n.severity] ?? 'Default', wrap: true, style: 'heading' },
    { type: 'TextBlock', text: n.text, wrap: true },
    { type: 'FactSet', facts },
    { type: 'TextBlock', text: `Potoo · ${n.rule ? `${n.rule.pack}/${n.rule.rule}` : 'potoo'} · ${n.createdAt}`, isSubtle: true, size: 'Small', wrap: true },
  ];
  const content: Record<string, unknown> = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    msteams: { width: 'Full' },
    body,
  };
  if (n.url) content.actions = [{ type: 'Action.OpenUrl', title: 'Details', url: n.url }];
  return { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content }] };
}

export class TeamsSink extends UrlSink {
  readonly type = 'teams' as const;

  async send(n: Notification, signal: AbortSignal): Promise<void> {
    // Workflows answer 202 Accepted; the card is posted asynchronously.
    await this.post(JSON.stringify(teamsMessage(n)), signal);
  }
}
