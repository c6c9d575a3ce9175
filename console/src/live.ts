import type { Session } from './config.ts';

export interface LiveMessage {
  channel: 'risk-status' | 'margin-updates' | 'alerts' | 'actions';
  type: string;
  accountId: string;
  detail: Record<string, unknown>;
}

type Listener = (m: LiveMessage) => void;

/**
 * One WebSocket for the whole console, subscribed to every channel for the accounts the current view
 * shows (a broker has a million accounts; a screen shows a few hundred). Views add and remove listeners
 * and set the accounts. Reconnects with backoff (API Gateway closes idle and two-hour-old connections).
 */
export class Live {
  private readonly listeners = new Set<Listener>();
  private attempts = 0;
  private socket: WebSocket | null = null;
  private accounts: string[] | null = [];

  constructor(
    private readonly session: Session,
    private readonly indicator: HTMLElement,
  ) {}

  start(): void {
    void this.connect();
  }

  /** The accounts whose messages this console wants (at most 500); null: every account. */
  watch(accounts: readonly string[] | null): void {
    this.accounts = accounts === null ? null : [...new Set(accounts)].slice(0, 500);
    this.sendSubscription();
  }

  private sendSubscription(): void {
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    this.socket.send(
      JSON.stringify({
        action: 'subscribe',
        channels: ['risk-status', 'margin-updates', 'alerts', 'actions'],
        ...(this.accounts === null ? {} : { accounts: this.accounts }),
      }),
    );
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async connect(): Promise<void> {
    this.show('connecting', 'connecting…');
    let ws: WebSocket;
    try {
      ws = new WebSocket(await this.session.webSocketUrl());
    } catch {
      return this.retry();
    }
    ws.onopen = () => {
      this.attempts = 0;
      ws.send(
        JSON.stringify({
          action: 'subscribe',
          channels: ['risk-status', 'margin-updates', 'alerts', 'actions'],
        }),
      );
    };
    ws.onmessage = (ev) => {
      const m = JSON.parse(String(ev.data)) as LiveMessage | { type: 'subscribed' };
      if (m.type === 'subscribed') return this.show('open', 'live');
      if ('channel' in m) for (const l of this.listeners) l(m);
    };
    ws.onclose = () => this.retry();
  }

  private retry(): void {
    this.show('closed', 'reconnecting…');
    const delay = Math.min(30_000, 500 * 2 ** this.attempts++);
    setTimeout(() => void this.connect(), delay);
  }

  private show(state: string, text: string): void {
    this.indicator.dataset.state = state;
    this.indicator.textContent = text;
  }
}
