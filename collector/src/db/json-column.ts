/** JSON stored in TEXT columns: parse defensively, a damaged value never takes a request down. */
export function parseJsonColumn<T>(value: string | null | undefined, fallback: T): T {
  if (value == null) return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}
