// Slack incoming webhooks: `text` (the notification fallback and what screen readers
// read) plus Block Kit `blocks`. Limits that Slack enforces by rejecting the message
// (header 150 characters, section text 3000, 10 fields of 2000) are applied here.
import { UrlSink } from './http.js';
import { SinkError, type Notification } from './types.js';

const SEVERITY_ICON: Record<string, string> = { Critical: ':red_circle:', Warning: ':large_orange_circle:', Info: ':large_blue_circle:' };

/** Slack mrkdwn treats &, < and > as control characters. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max - 1).join('') + '…';
}

export interface SlackBlock {
  type: string;
  [key: string]: unknown;
}

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

export function slackMessage(n: Notification): SlackMessage {
  const icon = SEVERITY_ICON[n.severity] ?? '';
  const where = n.regarding ? `${n.regarding.kind} ${n.regarding.namespace ? `${n.regarding.namespace}/` : ''}${n.regarding.name}` : n.namespace ? `namespace ${n.namespace}` : 'cluster';
  const fields = [
    { type: 'mrkdwn', text: `*Severity*\n${n.severity}` },
    { type: 'mrkdwn', text: `*${n.regarding ? 'Workload' : 'Scope'}*\n${escapeMrkdwn(where)}` },
    ...(n.facts ?? []).map((f) => ({ type: 'mrkdwn', text: clip(`*${escapeMrkdwn(f.name)}*\n${escapeMrkdwn(f.value)}`, 2000) })),
  ].slice(0, 10);
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`${n.severity}: ${n.title}`, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: clip(`${icon} ${escapeMrkdwn(n.text)}`.trim(), 3000) } },
    { type: 'section', fields },
  ];
  if (n.url) {
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Details' }, url: n.url, action_id: 'potoo-details' }] });
  }
  const origin = n.rule ? `${n.rule.pack}/${n.rule.rule}` : 'potoo';
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(`Potoo · ${origin} · ${n.createdAt}`) }] });
  return { text: clip(`${n.severity}: ${n.title} (${where}): ${n.text}`, 3000), blocks };
}

export class SlackSink extends UrlSink {
  readonly type = 'slack' as const;

  async send(n: Notification, signal: AbortSignal): Promise<void> {
    const r = await this.post(JSON.stringify(slackMessage(n)), signal);
    // Slack answers 200 "ok"; anything else in a 2xx is unexpected but not an error we can retry.
    if (r.body && r.body.trim() !== 'ok') throw new SinkError(`${this.what}: unexpected answer ${r.body.slice(0, 100)}`, false, r.status);
  }
}
