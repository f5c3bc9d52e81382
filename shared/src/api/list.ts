import { z } from 'zod';
import { LIMITS } from '../limits.js';

/** `?limit=&cursor=` on every list. Cursors are opaque strings. */
export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(LIMITS.pageMax).default(LIMITS.pageDefault),
  cursor: z.string().max(512).optional(),
});
export type ListQuery = z.infer<typeof ListQuery>;

export const listEnvelope = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export interface ListEnvelope<T> {
  items: T[];
  nextCursor: string | null;
}
