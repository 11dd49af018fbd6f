/**
 * The one way the application talks to the API: same origin, under /api, the session in an
 * HttpOnly cookie and the CSRF token (from the readable hp_csrf cookie) on every request.
 *
 * Every failure becomes one of two errors the pages know how to show: ApiError (the API
 * answered with its error body) or NetworkError (no answer at all).
 */

export const CSRF_COOKIE = "hp_csrf";
export const CSRF_HEADER = "X-CSRF-Token";

export interface FieldProblem {
  field: string;
  problem: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldProblem[] = [],
    /** From Retry-After, on 429 and 503. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The problem the API reported for one field, if any. */
  problemWith(field: string): string | undefined {
    return this.details.find((d) => d.field === field)?.problem;
  }
}

export class NetworkError extends Error {
  constructor() {
    super("The service could not be reached. Check your connection and try again.");
    this.name = "NetworkError";
  }
}

type Query = Record<string, string | number | undefined | null>;

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Sent as JSON. */
  json?: unknown;
  query?: Query;
}

type SessionEndedListener = (error: ApiError) => void;
let onSessionEnded: SessionEndedListener = () => {};

/**
 * Called when the API says the session is missing or expired (401 unauthenticated), so the
 * application can go back to sign-in. A wrong password or a missing TOTP code are 401s too,
 * but with their own codes, and the sign-in form shows them instead.
 */
export function whenSessionEnds(listener: SessionEndedListener): void {
  onSessionEnded = listener;
}

export function csrfToken(): string {
  for (const part of document.cookie.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(value.join("="));
  }
  return "";
}

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

function retryAfter(header: string | null): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
}

/** The API's error body ({"error": {code, message, details}}) as an ApiError. */
export function errorFrom(
  status: number,
  body: unknown,
  retryAfterHeader: string | null,
): ApiError {
  const error = (
    body as { error?: Partial<{ code: string; message: string; details: FieldProblem[] }> }
  )?.error;
  const fallback =
    status >= 500
      ? "The service is having trouble; try again shortly."
      : `The request failed (HTTP ${status}).`;
  const apiError = new ApiError(
    status,
    error?.code ?? "http_error",
    error?.message ?? fallback,
    Array.isArray(error?.details) ? error.details : [],
    retryAfter(retryAfterHeader),
  );
  if (status === 401 && apiError.code === "unauthenticated") onSessionEnded(apiError);
  return apiError;
}

async function parseBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Sends a request; resolves with the parsed JSON body (undefined for 204). */
export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = {
    Accept: "application/json",
    [CSRF_HEADER]: csrfToken(),
  };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method: options.method ?? "GET",
      headers,
      body,
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new NetworkError();
  }
  const parsed = await parseBody(response);
  if (!response.ok) throw errorFrom(response.status, parsed, response.headers.get("Retry-After"));
  return parsed as T;
}

/** Fetches a file's bytes (a download) with the same error handling as request(). */
export async function requestBlob(path: string): Promise<Blob> {
  let response: Response;
  try {
    response = await fetch(path, {
      headers: { [CSRF_HEADER]: csrfToken() },
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new NetworkError();
  }
  if (!response.ok) {
    throw errorFrom(
      response.status,
      await parseBody(response),
      response.headers.get("Retry-After"),
    );
  }
  return response.blob();
}

/**
 * Sends a file as the raw request body, reporting progress (fetch cannot report upload
 * progress; XMLHttpRequest can).
 */
export function uploadFile<T>(
  path: string,
  file: Blob,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.setRequestHeader(CSRF_HEADER, csrfToken());
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      let parsed: unknown;
      try {
        parsed = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        parsed = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(parsed as T);
      } else {
        reject(errorFrom(xhr.status, parsed, xhr.getResponseHeader("Retry-After")));
      }
    };
    xhr.onerror = () => reject(new NetworkError());
    xhr.onabort = () => reject(new DOMException("Upload cancelled", "AbortError"));
    signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(file);
  });
}
