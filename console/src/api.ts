import type { Session } from './config.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: {
      error?: string;
      message?: string;
      issues?: { field: string; message: string }[];
      [more: string]: unknown;
    },
  ) {
    super(
      body.issues?.map((i) => `${i.field}: ${i.message}`).join('; ') ??
        body.message ??
        `request failed (${status})`,
    );
  }
}

/** The REST API, called as the signed-in person. */
export class Api {
  constructor(
    private readonly baseUrl: string,
    private readonly session: Session,
  ) {}

  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { query?: Record<string, string | undefined>; body?: unknown } = {},
  ): Promise<T> {
    const url = new URL(this.baseUrl.replace(/\/$/, '') + path, location.href);
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined && v !== '') url.searchParams.set(k, v);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers = {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(await this.session.authorize(method, url, body)),
    };
    const res = await fetch(url, { method, headers, body });
    const json = res.status === 204 ? {} : await res.json().catch(() => ({}));
    if (!res.ok) throw new ApiError(res.status, json);
    return json as T;
  }

  get = <T = Record<string, unknown>>(path: string, query?: Record<string, string | undefined>) =>
    this.call<T>('GET', path, { query });
}
